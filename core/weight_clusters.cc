#include "core/weight_clusters.h"

#include <ATen/ATen.h>

#include "core/check.h"

namespace xfed {
namespace {

// The cluster of each value of a flat tensor (equal values, in increasing order) and their number.
std::pair<at::Tensor, int64_t> clusters_of(const at::Tensor& flat) {
  const auto unique = at::_unique2(flat, /*sorted=*/true, /*return_inverse=*/true, /*return_counts=*/false);
  return {std::get<1>(unique).reshape({-1}), std::get<0>(unique).numel()};
}

// Each cluster's sum of x's values.
at::Tensor cluster_sums(const at::Tensor& x, const at::Tensor& inverse, int64_t clusters) {
  return at::zeros({clusters}, x.options()).index_add_(0, inverse, x.reshape({-1}));
}

at::Tensor cluster_means(const at::Tensor& x, const at::Tensor& inverse, int64_t clusters) {
  const auto counts = at::bincount(inverse, {}, clusters).to(x.scalar_type());
  return cluster_sums(x, inverse, clusters).div_(counts);
}

}  // namespace

bool is_shared_slot(const TensorSlot& slot) { return !slot.is_buffer && slot.shape.size() >= 2; }

WeightClusters WeightClusters::of(const at::Tensor& state, const StateLayout& layout) {
  XFED_CHECK_EQ(state.numel(), layout.total, "WeightClusters: a state of another layout");
  WeightClusters c;
  c.full_slots_ = layout.slots;
  for (const auto& slot : layout.slots) {
    if (!is_shared_slot(slot)) {
      c.centroid_layout_.add(slot.name, slot.shape, slot.is_buffer);
      continue;
    }
    auto [inverse, k] = clusters_of(state.narrow(0, slot.offset, slot.numel));
    c.shared_.push_back({slot.offset, slot.numel, k, c.centroid_layout_.total, inverse});
    c.centroid_layout_.add(slot.name, {k}, false);
  }
  return c;
}

at::Tensor WeightClusters::to_centroids(const at::Tensor& full) const {
  auto out = at::empty({centroid_layout_.total}, full.options());
  size_t s = 0;
  for (size_t i = 0; i < full_slots_.size(); ++i) {
    const auto& slot = full_slots_[i];
    const auto& target = centroid_layout_.slots[i];
    auto part = full.narrow(0, slot.offset, slot.numel);
    if (!is_shared_slot(slot)) {
      out.narrow(0, target.offset, target.numel).copy_(part);
      continue;
    }
    const auto& sh = shared_[s++];
    out.narrow(0, target.offset, target.numel).copy_(cluster_means(part, sh.inverse, sh.clusters));
  }
  return out;
}

at::Tensor WeightClusters::expand(const at::Tensor& centroids) const {
  XFED_CHECK_EQ(centroids.numel(), centroid_layout_.total, "WeightClusters::expand: not a centroid-space vector");
  int64_t total = 0;
  for (const auto& slot : full_slots_) total += slot.numel;
  auto out = at::empty({total}, centroids.options());
  size_t s = 0;
  for (size_t i = 0; i < full_slots_.size(); ++i) {
    const auto& slot = full_slots_[i];
    const auto part = centroids.narrow(0, centroid_layout_.slots[i].offset, centroid_layout_.slots[i].numel);
    if (!is_shared_slot(slot)) {
      out.narrow(0, slot.offset, slot.numel).copy_(part);
      continue;
    }
    out.narrow(0, slot.offset, slot.numel).copy_(part.index_select(0, shared_[s++].inverse));
  }
  return out;
}

void WeightClusters::project(at::Tensor& full) const {
  for (const auto& sh : shared_) {
    auto part = full.narrow(0, sh.offset, sh.numel);
    part.copy_(cluster_means(part, sh.inverse, sh.clusters).index_select(0, sh.inverse));
  }
}

int64_t WeightClusters::max_clusters() const {
  int64_t k = 0;
  for (const auto& sh : shared_) k = std::max(k, sh.clusters);
  return k;
}

ParameterClusters::ParameterClusters(NetImpl& net) {
  for (const auto& p : net.parameters()) {
    if (p.dim() < 2) continue;
    auto [inverse, k] = clusters_of(p.detach().reshape({-1}));
    entries_.push_back({p, inverse, k});
  }
}

void ParameterClusters::share_gradients() const {
  for (const auto& e : entries_) {
    auto& g = const_cast<at::Tensor&>(e.param).mutable_grad();
    if (g.defined()) share_gradient(e.param, g);
  }
}

void ParameterClusters::share_gradient(const at::Tensor& param, at::Tensor& grad) const {
  for (const auto& e : entries_)
    if (e.param.is_same(param)) {
      grad.view({-1}).copy_(cluster_means(grad, e.inverse, e.clusters).index_select(0, e.inverse));
      return;
    }
}

}  // namespace xfed
