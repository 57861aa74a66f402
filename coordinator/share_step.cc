// The coordinator's part of --share-weights (share_weights.h): magnitude pruning at the end
// of round `prune_after`, clustering the model at the end of round `after`, the zeros and
// clusters of each later round's model, decoding the centroid-space updates, and keeping
// the model on its zeros and clusters after each step.
#include <ATen/ATen.h>

#include "compression/kmeans.h"
#include "compression/state_codec.h"
#include "coordinator/coordinator.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/pruned_zeros.h"

namespace xfed::coordinator {
namespace {

// The slot's nonzero weights shared among k - 1 values (zero is the k-th) when zeros are
// pruned, else all of them among k; in place.
Status share_slot(at::Tensor part, int k, bool zeros_pruned) {
  const auto t = part.contiguous();
  std::vector<float> values;
  std::vector<int64_t> kept;  // zeros pruned: the positions of the nonzero weights
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = t.data_ptr<float>()[i];
    if (zeros_pruned && v == 0.0f) continue;
    values.push_back(v);
    kept.push_back(i);
  }
  if (values.empty()) return Status::ok();  // every weight pruned
  auto shared = compression::share_weights(values, static_cast<int>(std::min<int64_t>(zeros_pruned ? k - 1 : k,
                                                                                      static_cast<int64_t>(values.size()))));
  if (!shared) return shared.status();
  auto centroids = compression::expand_shared(shared.value());
  auto out = t.clone();
  for (size_t j = 0; j < kept.size(); ++j) out.data_ptr<float>()[kept[j]] = centroids[j];
  part.copy_(out);
  return Status::ok();
}

}  // namespace

void Coordinator::begin_shared_round(int64_t round, protocol::TrainTask* task) {
  clusters_.reset();
  pruned_zeros_ = at::Tensor();
  const auto& spec = options_.share_weights;
  if (!spec) return;
  if (spec->zeros_pruned_in(round)) {
    pruned_zeros_ = zeros_of(state_.global, state_.layout);
    task->train.pruned_zeros = 1;
  }
  if (!spec->active_in(round)) return;
  clusters_ = WeightClusters::of(state_.global, state_.layout);
  task->train.shared_weights = spec->bits;
}

Status Coordinator::decode_update(ByteReader& r, const std::vector<protocol::CodecId>& codecs, at::Tensor* delta) {
  if (!clusters_) {
    *delta = at::empty({state_.layout.total}, at::kFloat);
    return compression::decode_state(r, state_.layout, codecs, delta->data_ptr<float>());
  }
  auto centroids = at::empty({clusters_->centroid_layout().total}, at::kFloat);
  if (auto st = compression::decode_state(r, clusters_->centroid_layout(), codecs, centroids.data_ptr<float>()); !st)
    return st;
  *delta = clusters_->expand(centroids);
  return Status::ok();
}

void Coordinator::keep_on_zeros_and_clusters() {
  if (clusters_) clusters_->project(state_.global);
  if (pruned_zeros_.defined()) state_.global.masked_fill_(pruned_zeros_, 0.0f);
}

Status Coordinator::maybe_share_weights(int64_t round) {
  const auto& spec = options_.share_weights;
  if (const double sparsity = spec ? spec->sparsity_at(round) : 0; sparsity > 0) {
    const int64_t zeros = prune_smallest(state_.global, state_.layout, sparsity);
    ++state_.version;
    if (spec->restart_lr) pruning_.restart_lr_after(round);
    log_info("round " + std::to_string(round) + ": " + std::to_string(zeros) +
             " weights of the weight matrices pruned by magnitude (" + short_number(100 * sparsity) +
             " %); they stay zero, the others retrain");
  }
  if (!spec || round != spec->after) return Status::ok();
  const int k = 1 << spec->bits;
  for (const auto& slot : state_.layout.slots) {
    if (!is_shared_slot(slot)) continue;
    if (auto st = share_slot(state_.global.narrow(0, slot.offset, slot.numel), k, spec->sparsity > 0); !st)
      return st.prefixed("round " + std::to_string(round) + ": sharing " + slot.name);
  }
  ++state_.version;
  log_info("round " + std::to_string(round) + ": weight matrices share " + std::to_string(k) +
           " values each from now on (k-means" + (spec->sparsity > 0 ? ", zero one of them" : "") +
           "); clients train the centroids");
  return Status::ok();
}

}  // namespace xfed::coordinator
