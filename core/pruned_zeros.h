// Magnitude pruning's zeros (#20, `--share-weights sparsity=S`): Deep Compression prunes the
// weights of smallest magnitude and retrains the rest. In xfed a weight-matrix entry that is
// exactly zero (a shared tensor's, core/weight_clusters.h: every parameter of two or more
// dimensions) is a pruned one once the task says `pruned_zeros`: the mask is the model's own
// zeros, derived by both sides from the same bytes, so nothing travels and a checkpoint
// holds it.
//   - the coordinator: prune_smallest() makes the zeros once; zeros_of() takes the round
//     model's, and after the step the new model's entries there are set back to zero;
//   - a trainer: PrunedZeroGradients zeroes their gradient before every optimizer step, so
//     SGD with momentum (the velocity starts at zero each task), weight decay (wd·0) and
//     FedProx (mu·(0 - 0)) leave them exactly zero.
// Deterministic.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "core/model.h"
#include "core/state_layout.h"

namespace xfed {

// True at the zero entries of `state`'s shared tensors (flat, laid out by `layout`).
at::Tensor zeros_of(const at::Tensor& state, const StateLayout& layout);

// Sets round(sparsity · n) of the n shared-tensor entries of `state` to zero: those of
// smallest magnitude over all shared tensors together (one threshold; ties by position).
// Entries already zero count among them. Returns how many entries are zero afterwards.
int64_t prune_smallest(at::Tensor& state, const StateLayout& layout, double sparsity);

// For a trainer: the zeros of a Net's shared parameters as they are now.
class PrunedZeroGradients {
 public:
  explicit PrunedZeroGradients(NetImpl& net);
  // In place: every shared parameter's gradient set to zero where the parameter is pruned.
  void apply() const;
  void apply(const at::Tensor& param, at::Tensor& grad) const;

 private:
  struct Entry {
    at::Tensor param, zero;  // zero: bool, the parameter's shape
  };
  std::vector<Entry> entries_;
};

}  // namespace xfed
