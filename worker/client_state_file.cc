#include "worker/client_state_file.h"

#include <filesystem>

#include "core/file_io.h"
#include "core/log.h"
#include "protocol/frame.h"

namespace xfed::worker {

std::string client_state_path(const std::string& checkpoint_dir) {
  return (std::filesystem::path(checkpoint_dir) / "clients.xfed").string();
}

std::string client_state_path(const std::string& checkpoint_dir, int rank) {
  return (std::filesystem::path(checkpoint_dir) / ("clients.rank" + std::to_string(rank) + ".xfed")).string();
}

Status save_client_state(ClientStateStore& store, const std::string& path, int64_t round) {
  protocol::FrameHeader h;
  h.kind = protocol::FrameKind::kClientState;
  h.round = static_cast<uint32_t>(round);
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  return write_file_atomically(path, protocol::encode_frame(h, store.serialize()));
}

void restore_client_state(ClientStateStore& store, const std::string& path, const ResumePoint& at) {
  if (at.round == 0) return;
  auto fail = [&](const std::string& why) {
    log_warning(path + ": " + why + "; the clients' error-feedback residuals start from zero");
    store.reset(at.structure_version);
  };
  if (!std::filesystem::exists(path)) return fail("missing");
  auto bytes = read_file_bytes(path);
  if (!bytes) return fail(bytes.status().message());
  auto frame = protocol::decode_frame(std::move(bytes).value());
  if (!frame) return fail(frame.status().message());
  const auto& header = frame.value().header;
  if (header.kind != protocol::FrameKind::kClientState) return fail("not a client-state file");
  if (header.round != at.round)
    return fail("from round " + std::to_string(header.round) + ", the checkpoint from round " +
                std::to_string(at.round));
  auto reader = frame.value().payload_reader();
  if (auto st = store.restore(reader); !st) return fail(st.message());
  if (store.structure_version() != at.structure_version)
    return fail("for model structure " + std::to_string(store.structure_version()) +
                ", the checkpoint's is " + std::to_string(at.structure_version));
}

}  // namespace xfed::worker
