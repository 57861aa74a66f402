// PruningSchedule: the coordinator's pruning state across rounds (protocol step 6), apart
// from the rounds themselves (coordinator/prune_step.cc runs the stats round and sends the
// plan). It decides when a step is due (every `every` rounds from `warmup`, until the size
// target or the accuracy floor), keeps the clients' input statistics (sent once per client,
// summed, sliced with the model), turns evidence into a StructurePlan, remembers the kept
// units in the original numbering, restarts the lr schedule after a cut, and owns its
// section of the checkpoint. No transport, no threads: a value the coordinator holds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "coordinator/checkpoint.h"
#include "core/metrics.h"
#include "core/model.h"
#include "pruning/class_stats.h"
#include "pruning/evidence.h"
#include "pruning/planner.h"
#include "pruning/structure_plan.h"

namespace xfed::coordinator {

class PruningSchedule {
 public:
  // `options` empty: no pruning; only the kept units (all) are tracked.
  PruningSchedule(std::optional<pruning::PruneOptions> options, const NetImpl& model, int64_t clients);

  bool enabled() const { return options_.has_value(); }
  const pruning::PruneOptions& options() const { return *options_; }
  // Whether round `round` prunes `model`; false for good once the target or the accuracy
  // floor is reached (the floor is logged).
  bool due(int64_t round, const NetImpl& model, std::optional<double> last_accuracy);
  // The criterion needs a stats round first.
  bool needs_stats() const;
  // Index of the input tap of `model` (mlp input features), or -1.
  static int input_tap(const NetImpl& model);
  // This client's input statistics are already held: its stats task skips them.
  bool has_input_stats(int64_t client) const { return has_input_stats_.at(client) != 0; }
  // A client's evidence as it is summed (client order): its input statistics are kept here
  // for good and removed from `evidence`.
  void take_input_stats(int64_t client, int input_tap, pruning::Evidence& evidence);
  // The summed evidence of a stats round, completed with every client's input statistics.
  void complete(int input_tap, pruning::Evidence& evidence) const;

  struct Step {
    pruning::StructurePlan plan;
    std::vector<double> di;  // per layer (DI criteria), for the metrics
  };
  // Scores and plans a step on `model` (the current global model).
  Result<Step> plan(int64_t round, NetImpl& model, const pruning::Evidence& evidence, uint64_t seed) const;
  // The plan was adopted after round `round`.
  void adopted(const pruning::StructurePlan& plan, int64_t round, int input_tap);

  int64_t structure_version() const { return structure_version_; }
  int64_t lr_origin() const { return lr_origin_; }  // round at which the lr decay (re)started
  void restart_lr_after(int64_t round) { lr_origin_ = round + 1; }  // another pruning step (magnitude) ended
  const std::vector<std::vector<int64_t>>& kept_units() const { return kept_original_; }
  const std::vector<std::string>& layer_names() const { return original_layers_; }

  void save(CheckpointState* state) const;
  Status restore(const CheckpointState& state, const NetImpl& model);

 private:
  std::optional<pruning::PruneOptions> options_;
  int64_t structure_version_ = 0;
  int64_t lr_origin_ = 1;
  int64_t original_size_ = 0;
  bool done_ = false;
  std::optional<pruning::ClassStats> input_stats_;  // summed over clients, sent once each
  std::vector<char> has_input_stats_;               // per client
  std::vector<std::vector<int64_t>> kept_original_;
  std::vector<std::string> original_layers_;
};

}  // namespace xfed::coordinator
