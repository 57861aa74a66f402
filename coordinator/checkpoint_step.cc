// The coordinator's side of --checkpoint-dir / --resume (see coordinator/checkpoint.h): what
// a round's checkpoint holds, and how a resumed run takes it back, pruning schedule included.
// The workers save their clients' state first, each for itself, and confirm
// (worker/client_state_file.h); only then is the coordinator's checkpoint written.
#include <filesystem>
#include <optional>
#include <set>

#include "coordinator/checkpoint.h"
#include "coordinator/coordinator.h"
#include "core/log.h"
#include "core/model_state.h"
#include "core/timing.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace xfed::coordinator {
namespace {

// A worker's confirmation that it saved its clients' state for `round`, if `bytes` are one.
std::optional<protocol::ControlMessage> confirmation(Bytes bytes, int64_t round, uint64_t max_frame_bytes) {
  auto frame = protocol::decode_frame(std::move(bytes), max_frame_bytes);
  if (!frame || frame.value().header.kind != protocol::FrameKind::kControl ||
      frame.value().header.round != static_cast<uint32_t>(round))
    return std::nullopt;
  auto r = frame.value().payload_reader();
  protocol::ControlMessage reply;
  if (!reply.read(r) || reply.command != protocol::ControlCommand::kClientStateSaved) return std::nullopt;
  return reply;
}

}  // namespace

Status Coordinator::restore_checkpoint(int64_t* first_round) {
  if (!options_.resume || options_.checkpoint_dir.empty()) return Status::ok();
  if (!std::filesystem::exists(checkpoint_path(options_.checkpoint_dir))) {
    log_warning("--resume: no checkpoint in " + options_.checkpoint_dir + "; starting at round 1");
    return Status::ok();
  }
  auto ck = load_checkpoint(options_.checkpoint_dir);
  if (!ck) return ck.status();
  auto& c = ck.value();
  auto spec = ModelSpec::from_json(c.spec_json);
  const bool same_family = spec && spec.value().arch == net_->spec().arch &&
                           spec.value().in_channels == net_->spec().in_channels &&
                           spec.value().classes == net_->spec().classes;
  if (!same_family)
    return Status::error(checkpoint_path(options_.checkpoint_dir) +
                         ": checkpoint is for a different model; remove it or change flags");
  if (spec.value() != net_->spec()) {  // a pruned model: continue with its structure
    net_ = make_model(spec.value());
    layout_ = layout_of(*net_);
    optimizer_.reset(layout_.param_count());
  }
  if (c.weights.numel() != layout_.total)
    return Status::error(checkpoint_path(options_.checkpoint_dir) + ": weights do not match the model");
  if (auto st = optimizer_.load_state(c.optimizer_state); !st) return st;
  global_ = c.weights;
  model_version_ = c.model_version;
  broadcast_.reset(c.view.defined() ? c.view : global_, c.view_version);
  totals_ = c.totals;
  if (auto st = pruning_.restore(c, *net_); !st) return st.prefixed(checkpoint_path(options_.checkpoint_dir));
  *first_round = c.round + 1;
  log_info("resumed from round " + std::to_string(c.round));
  return Status::ok();
}

Status Coordinator::save_round_checkpoint(int64_t round) {
  if (options_.checkpoint_dir.empty()) return Status::ok();
  if (round % options_.checkpoint_every != 0 && round != options_.rounds) return Status::ok();
  if (auto st = save_client_states(round); !st) return st;
  CheckpointState s;
  s.round = round;
  s.model_version = model_version_;
  s.spec_json = net_->spec().to_json();
  s.weights = global_;
  s.optimizer_state = optimizer_.state();
  s.totals = totals_;
  s.view = broadcast_.view();
  s.view_version = broadcast_.version();
  s.run_identity = options_.run_identity;
  pruning_.save(&s);
  return save_checkpoint(options_.checkpoint_dir, s);
}

// Asks every worker to save its clients' state for `round` and waits (bounded) for each to
// confirm. A worker that cannot is logged: a resume of this round restarts its clients'
// residuals. Frames of past rounds that arrive meanwhile are logged and dropped.
Status Coordinator::save_client_states(int64_t round) {
  using protocol::ControlCommand;
  const auto command = protocol::ControlMessage{ControlCommand::kSaveClientState, {}}.frame(
      static_cast<uint32_t>(round), 0);
  std::set<int> waiting;
  for (int r = 1; r < transport_.world_size(); ++r)
    if (alive_[r] && transport_.send(r, command)) waiting.insert(r);
  const auto deadline = Clock::now() + kClientStateSaveTimeout;
  while (!waiting.empty()) {
    auto got = receive_until(deadline);
    if (got.kind == transport::Received::Kind::kTimeout) break;
    const int from = got.message.source;
    if (got.kind == transport::Received::Kind::kError) {
      if (from <= 0) return got.status.prefixed("coordinator");
      log_warning("checkpoint of round " + std::to_string(round) + ": " + got.status.message());
      alive_[from] = false;
      waiting.erase(from);
      continue;
    }
    const auto reply = confirmation(std::move(got.message.bytes), round, options_.max_frame_bytes);
    if (!reply || !waiting.count(from)) {
      log_warning("checkpoint of round " + std::to_string(round) + ": dropped a frame from " +
                  transport::peer_name(from) + " that is not its confirmation");
      continue;
    }
    if (!reply->error.empty())
      log_warning(transport::peer_name(from) + " could not save its clients' state (" + reply->error +
                  "); a resume from round " + std::to_string(round) + " restarts their residuals");
    waiting.erase(from);
  }
  for (int r : waiting)
    log_warning(transport::peer_name(r) + " did not confirm saving its clients' state within " +
                std::to_string(kClientStateSaveTimeout.count()) + " s; a resume from round " +
                std::to_string(round) + " may restart their residuals");
  return Status::ok();
}

}  // namespace xfed::coordinator
