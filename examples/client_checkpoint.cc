#include "examples/client_checkpoint.h"

#include <filesystem>

#include "coordinator/checkpoint.h"
#include "coordinator/model_file.h"
#include "core/file_io.h"
#include "core/log.h"
#include "protocol/frame.h"

namespace xfed::cli {

std::string client_state_path(const std::string& checkpoint_dir) {
  return (std::filesystem::path(checkpoint_dir) / "clients.xfed").string();
}

ClientStateCheckpointer::ClientStateCheckpointer(std::shared_ptr<worker::ClientStateStore> store,
                                                 std::string dir, int64_t every, int64_t rounds)
    : store_(std::move(store)), dir_(std::move(dir)), every_(every), rounds_(rounds),
      plans_(store_->structure_version()) {}

void ClientStateCheckpointer::on_round(const RoundReport& report) {
  if (report.per_layer.count("kept")) ++plans_;  // this round pruned
  if (report.round % every_ != 0 && report.round != rounds_) return;
  if (!store_->wait_for_structure(plans_, std::chrono::seconds(60)))
    log_warning("round " + std::to_string(report.round) +
                ": the clients have not registered the newest plan; their saved residuals may not "
                "survive a resume");
  protocol::FrameHeader h;
  h.kind = protocol::FrameKind::kClientState;
  h.round = static_cast<uint32_t>(report.round);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const auto st = write_file_atomically(client_state_path(dir_),
                                                     protocol::encode_frame(h, store_->serialize()));
  if (!st) log_error(st.message() + " (a resume of this round will restart the clients' residuals)");
}

void restore_client_state(worker::ClientStateStore& store, const std::string& checkpoint_dir) {
  const auto path = client_state_path(checkpoint_dir);
  if (!std::filesystem::exists(coordinator::checkpoint_path(checkpoint_dir))) return;
  auto ck = coordinator::load_checkpoint(checkpoint_dir);
  if (!ck) return;  // the coordinator reports it
  auto fail = [&](const std::string& why) {
    log_warning(path + ": " + why + "; the clients' error-feedback residuals start from zero");
    store.reset(ck.value().structure_version);
  };
  if (!std::filesystem::exists(path)) return fail("missing");
  auto bytes = read_file_bytes(path);
  if (!bytes) return fail(bytes.status().message());
  auto frame = protocol::decode_frame(std::move(bytes).value());
  if (!frame) return fail(frame.status().message());
  const auto& header = frame.value().header;
  if (header.kind != protocol::FrameKind::kClientState) return fail("not a client-state file");
  if (header.round != ck.value().round)
    return fail("from round " + std::to_string(header.round) + ", the checkpoint from round " +
                std::to_string(ck.value().round));
  auto reader = frame.value().payload_reader();
  if (auto st = store.restore(reader); !st) return fail(st.message());
  if (store.structure_version() != ck.value().structure_version)
    return fail("for model structure " + std::to_string(store.structure_version()) +
                ", the checkpoint's is " +
                std::to_string(ck.value().structure_version));
}

}  // namespace xfed::cli
