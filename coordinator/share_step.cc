// The coordinator's part of --share-weights (share_weights.h): clustering the model at the
// end of round `after`, the clusters of each later round's model, decoding the centroid-space
// updates, and keeping the model on its clusters after each step.
#include <ATen/ATen.h>

#include "compression/kmeans.h"
#include "compression/state_codec.h"
#include "coordinator/coordinator.h"
#include "core/log.h"

namespace xfed::coordinator {

void Coordinator::begin_shared_round(int64_t round, protocol::TrainTask* task) {
  clusters_.reset();
  if (!options_.share_weights || !options_.share_weights->active_in(round)) return;
  clusters_ = WeightClusters::of(state_.global, state_.layout);
  task->train.shared_weights = options_.share_weights->bits;
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

void Coordinator::keep_on_clusters() {
  if (clusters_) clusters_->project(state_.global);
}

Status Coordinator::maybe_share_weights(int64_t round) {
  const auto& spec = options_.share_weights;
  if (!spec || round != spec->after) return Status::ok();
  const int k = 1 << spec->bits;
  for (const auto& slot : state_.layout.slots) {
    if (!is_shared_slot(slot)) continue;
    auto part = state_.global.narrow(0, slot.offset, slot.numel);
    const auto t = part.contiguous();
    const std::vector<float> values(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    auto shared = compression::share_weights(values, std::min<int64_t>(k, slot.numel));
    if (!shared) return shared.status().prefixed("round " + std::to_string(round) + ": sharing " + slot.name);
    auto centroids = compression::expand_shared(shared.value());
    part.copy_(at::from_blob(centroids.data(), {slot.numel}, at::kFloat));
  }
  ++state_.version;
  log_info("round " + std::to_string(round) + ": weight matrices share " + std::to_string(k) +
           " values each from now on (k-means); clients train the centroids");
  return Status::ok();
}

}  // namespace xfed::coordinator
