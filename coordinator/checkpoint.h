// Coordinator checkpoints (--checkpoint-dir, --resume): everything needed to continue a run
// so that the result is bit-identical to an uninterrupted one — the round reached, model
// version, spec, global state, model view, server optimizer state, the byte totals, and the
// pruning schedule's state (structure version, lr origin, kept units in the original
// numbering, which clients already sent their input statistics, and those statistics). Client
// sampling and local training are seeded by (seed, round, client), so they need no state.
// Clients' error-feedback state is the workers' to keep: each saves its own, beside this file,
// when the coordinator checkpoints (worker/client_state_file.h).
//
// Stored as one frame of kind checkpoint in DIR/checkpoint.xfed, written atomically.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "core/coding.h"
#include "core/metrics.h"
#include "core/status.h"

namespace xfed::coordinator {

struct CheckpointState {
  int64_t round = 0;  // last completed round
  int64_t model_version = 0;
  std::string spec_json;
  at::Tensor weights;  // flat state
  std::vector<at::Tensor> optimizer_state;
  RunSummary totals;   // byte totals so far
  at::Tensor view;     // the model view clients train from (differs from weights with a
  int64_t view_version = 0;  // lossy downlink)
  // Pruning (absent from checkpoints of runs without --prune, and from older files).
  int64_t structure_version = 0;
  int64_t lr_origin = 1;
  std::vector<std::vector<int64_t>> kept_original;  // per prunable layer of the original model
  std::vector<char> has_input_stats;                 // per client
  Bytes input_stats;                                 // ClassStats::write of the summed input stats
  // What defines the run ("--key=value" lines from the application; empty in older files):
  // a resume with other settings is refused before round 1.
  std::string run_identity;
  Bytes privacy;  // --dp's state (PrivateAggregation::save); empty without --dp
};

constexpr uint64_t kMaxCheckpointBytes = uint64_t{8} << 30;

std::string checkpoint_path(const std::string& dir);
Status save_checkpoint(const std::string& dir, const CheckpointState& state);
Result<CheckpointState> load_checkpoint(const std::string& dir);
// The same from the file's bytes (`path` names it in errors).
Result<CheckpointState> decode_checkpoint(Bytes bytes, const std::string& path);

}  // namespace xfed::coordinator
