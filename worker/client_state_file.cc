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

namespace {

std::string previous_of(const std::string& path) { return path + ".prev"; }

// The store filled from `path` if the file belongs to `at`; otherwise why not.
Status read_state_file(ClientStateStore& store, const std::string& path, const ResumePoint& at) {
  if (!std::filesystem::exists(path)) return Status::io("missing");
  auto bytes = read_file_bytes(path);
  if (!bytes) return bytes.status();
  auto frame = protocol::decode_frame(std::move(bytes).value());
  if (!frame) return frame.status();
  const auto& header = frame.value().header;
  if (header.kind != protocol::FrameKind::kClientState) return Status::corruption("not a client-state file");
  if (header.round != at.round)
    return Status::stale("from round " + std::to_string(header.round) + ", the checkpoint from round " +
                         std::to_string(at.round));
  auto reader = frame.value().payload_reader();
  if (auto st = store.restore(reader); !st) return st;
  if (store.structure_version() != at.structure_version)
    return Status::stale("for model structure " + std::to_string(store.structure_version()) +
                         ", the checkpoint's is " + std::to_string(at.structure_version));
  return Status::ok();
}

}  // namespace

// The file of the previous checkpoint stays as FILE.prev until this one is written: a job
// killed after the workers saved but before the coordinator did resumes from the previous
// checkpoint, whose clients' state is then still there.
Status save_client_state(ClientStateStore& store, const std::string& path, int64_t round) {
  protocol::FrameHeader h;
  h.kind = protocol::FrameKind::kClientState;
  h.round = static_cast<uint32_t>(round);
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (std::filesystem::exists(path, ec)) {
    std::filesystem::rename(path, previous_of(path), ec);
    if (ec) return Status::io(path + ": cannot keep the previous state as " + previous_of(path) + ": " + ec.message());
  }
  return write_file_atomically(path, protocol::encode_frame(h, store.serialize()));
}

Status restore_client_state(ClientStateStore& store, const std::string& path, const ResumePoint& at) {
  if (at.round == 0) return Status::ok();
  const auto st = read_state_file(store, path, at);
  if (st) return st;
  const auto previous = read_state_file(store, previous_of(path), at);
  if (previous) {
    log_warning(path + ": " + st.message() + "; restored the clients' state of round " + std::to_string(at.round) +
                " from " + previous_of(path) + " (the job stopped between the workers' save and the coordinator's)");
    return previous;
  }
  store.reset(at.structure_version);
  return Status::usage("cannot resume: " + path + ": " + st.message() + ", and " + previous_of(path) + ": " +
                       previous.message() + " (restore the files of the checkpoint's round " +
                       std::to_string(at.round) + ", or start the run afresh without --resume)");
}

}  // namespace xfed::worker
