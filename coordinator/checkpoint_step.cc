// The coordinator's side of --checkpoint-dir / --resume (see coordinator/checkpoint.h): what
// a round's checkpoint holds, and how a resumed run takes it back, pruning schedule included.
// The workers save their clients' state first, each for itself, and confirm
// (worker/client_state_file.h); only then is the coordinator's checkpoint written.
#include <filesystem>

#include "coordinator/checkpoint.h"
#include "coordinator/coordinator.h"
#include "core/log.h"
#include "core/model_state.h"
#include "core/timing.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace xfed::coordinator {
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
  const bool same_family = spec && spec.value().arch == state_.net->spec().arch &&
                           spec.value().in_channels == state_.net->spec().in_channels &&
                           spec.value().classes == state_.net->spec().classes;
  if (!same_family)
    return Status::error(checkpoint_path(options_.checkpoint_dir) +
                         ": checkpoint is for a different model; remove it or change flags");
  if (auto st = state_.restore(c, checkpoint_path(options_.checkpoint_dir)); !st) return st;
  totals_ = c.totals;
  if (auto st = pruning_.restore(c, *state_.net); !st) return st.prefixed(checkpoint_path(options_.checkpoint_dir));
  if (auto st = restore_privacy(c.privacy); !st) return st.prefixed(checkpoint_path(options_.checkpoint_dir));
  *first_round = c.round + 1;
  log_info("resumed from round " + std::to_string(c.round));
  return Status::ok();
}

// --dp's secret and clip norm; a checkpoint of a run with --dp has them (the run identity
// says whether the run has --dp).
Status Coordinator::restore_privacy(const Bytes& saved) {
  if (!dp_) return Status::ok();
  if (saved.empty()) return Status::corruption("the checkpoint has no --dp state");
  ByteReader r(saved.data(), saved.size());
  if (auto st = dp_->restore(r); !st) return st;
  if (!r.done()) return Status::corruption("the --dp state is malformed");
  return Status::ok();
}

Status Coordinator::save_round_checkpoint(int64_t round) {
  if (options_.checkpoint_dir.empty()) return Status::ok();
  if (round % options_.checkpoint_every != 0 && round != options_.rounds) return Status::ok();
  if (auto st = save_client_states(round); !st) return st;
  CheckpointState s;
  s.round = round;
  s.model_version = state_.version;
  s.spec_json = state_.net->spec().to_json();
  s.weights = state_.global;
  s.optimizer_state = state_.optimizer.state();
  s.totals = totals_;
  s.view = state_.downlink.view();
  s.view_version = state_.downlink.version();
  s.run_identity = options_.run_identity;
  pruning_.save(&s);
  if (dp_) {
    ByteWriter w(&s.privacy);
    dp_->save(w);
  }
  return save_checkpoint(options_.checkpoint_dir, s);
}

// Asks every worker to save its clients' state for `round` and waits (bounded) for each to
// confirm. A worker that cannot is logged: a resume of this round restarts its clients'
// residuals.
Status Coordinator::save_client_states(int64_t round) {
  using protocol::ControlCommand;
  auto asked = ask_workers({ControlCommand::kSaveClientState, {}}, static_cast<uint32_t>(round),
                           ControlCommand::kClientStateSaved, kClientStateSaveTimeout,
                           "checkpoint of round " + std::to_string(round));
  if (!asked) return asked.status();
  for (const auto& [rank, reply] : asked.value().replies)
    if (!reply.text.empty())
      log_warning(transport::peer_name(rank) + " could not save its clients' state (" + reply.text +
                  "); a resume from round " + std::to_string(round) + " restarts their residuals");
  for (int r : asked.value().silent)
    log_warning(transport::peer_name(r) + " did not confirm saving its clients' state within " +
                std::to_string(kClientStateSaveTimeout.count()) + " s; a resume from round " +
                std::to_string(round) + " may restart their residuals");
  return Status::ok();
}

}  // namespace xfed::coordinator
