// Trained weight sharing (#20, `--share-weights`): once the coordinator has clustered a
// model's weight matrices (Deep Compression's k-means, 2^B values per tensor), every weight
// of a cluster holds the same value, so the clusters are the model's own: the weights of a
// tensor that are equal. Both sides derive them from the same bytes (the round's model,
// whose CRC the update carries), so no assignment ever travels.
//
// Shared tensors: every parameter of two or more dimensions (Linear and Conv weights);
// biases and buffers stay unshared. What the clusters give:
//   - training: each weight's gradient replaced by its cluster's mean — the centroid's
//     gradient (Deep Compression's sum over the cluster) divided by the cluster's size, so
//     that a centroid of thousands of weights moves at the task's lr like one weight does
//     (the plain sum diverged in round 1 of sharing at --lr 0.05: loss 46817); SGD with
//     momentum, weight decay and FedProx then moves a cluster's weights by identical float
//     operations, so equal weights stay equal;
//   - the uplink: an update is the centroids' change, one value per cluster, laid out by
//     centroid_layout() (a shared tensor becomes a vector of its clusters);
//   - the coordinator: expand() back to every weight, and project() of the new global model
//     (each cluster to its mean) after the server's step, whatever the server rule did.
// Two clusters that come to hold the same value are one from then on. Deterministic; the
// caller holds one object per model state (not thread-safe to share while used).
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "core/model.h"
#include "core/state_layout.h"

namespace xfed {

class WeightClusters {
 public:
  // The clusters of `state` (flat, laid out by `layout`).
  static WeightClusters of(const at::Tensor& state, const StateLayout& layout);

  // The layout of an update in centroid space: each shared tensor as {clusters} values.
  const StateLayout& centroid_layout() const { return centroid_layout_; }
  // Full state-sized vector -> centroid space (each cluster's mean).
  at::Tensor to_centroids(const at::Tensor& full) const;
  // Centroid space -> full (each weight its cluster's value).
  at::Tensor expand(const at::Tensor& centroids) const;
  // In place: each shared weight set to its cluster's mean.
  void project(at::Tensor& full) const;
  // The most clusters any shared tensor has.
  int64_t max_clusters() const;

 private:
  struct Shared {
    int64_t offset = 0, numel = 0, clusters = 0;
    int64_t centroid_offset = 0;
    at::Tensor inverse;  // per weight, its cluster (int64)
  };
  std::vector<Shared> shared_;
  std::vector<TensorSlot> full_slots_;
  StateLayout centroid_layout_;
};

// Whether a state slot is shared (a parameter of two or more dimensions).
bool is_shared_slot(const TensorSlot& slot);

// For a trainer: the clusters of a Net's shared parameters as they are now.
class ParameterClusters {
 public:
  explicit ParameterClusters(NetImpl& net);
  // In place: each shared parameter's gradient replaced by its cluster's mean.
  void share_gradients() const;
  void share_gradient(const at::Tensor& param, at::Tensor& grad) const;

 private:
  struct Entry {
    at::Tensor param, inverse;
    int64_t clusters = 0;
  };
  std::vector<Entry> entries_;
};

}  // namespace xfed
