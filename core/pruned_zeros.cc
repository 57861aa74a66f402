#include "core/pruned_zeros.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/check.h"
#include "core/weight_clusters.h"

namespace xfed {

at::Tensor zeros_of(const at::Tensor& state, const StateLayout& layout) {
  XFED_CHECK_EQ(state.numel(), layout.total, "zeros_of: a state of another layout");
  auto zero = at::zeros({layout.total}, at::kBool);
  for (const auto& slot : layout.slots)
    if (is_shared_slot(slot)) zero.narrow(0, slot.offset, slot.numel).copy_(state.narrow(0, slot.offset, slot.numel).eq(0));
  return zero;
}

int64_t prune_smallest(at::Tensor& state, const StateLayout& layout, double sparsity) {
  XFED_CHECK_EQ(state.numel(), layout.total, "prune_smallest: a state of another layout");
  std::vector<at::Tensor> positions;
  for (const auto& slot : layout.slots)
    if (is_shared_slot(slot)) positions.push_back(at::arange(slot.offset, slot.offset + slot.numel, at::kLong));
  if (positions.empty()) return 0;
  const auto where = at::cat(positions);
  const auto magnitude = state.index_select(0, where).abs();
  const auto cut = static_cast<int64_t>(std::llround(sparsity * static_cast<double>(where.numel())));
  // A stable sort keeps equal magnitudes in position order: the same cut on every machine.
  const auto order = std::get<1>(magnitude.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  state.index_fill_(0, where.index_select(0, order.narrow(0, 0, cut)), 0.0f);
  return state.index_select(0, where).eq(0).sum().item<int64_t>();
}

PrunedZeroGradients::PrunedZeroGradients(NetImpl& net) {
  for (const auto& p : net.parameters())
    if (p.dim() >= 2) entries_.push_back({p, p.detach().eq(0)});
}

void PrunedZeroGradients::apply() const {
  for (const auto& e : entries_) {
    auto& g = const_cast<at::Tensor&>(e.param).mutable_grad();
    if (g.defined()) g.masked_fill_(e.zero, 0.0f);
  }
}

void PrunedZeroGradients::apply(const at::Tensor& param, at::Tensor& grad) const {
  for (const auto& e : entries_)
    if (e.param.is_same(param)) {
      grad.masked_fill_(e.zero, 0.0f);
      return;
    }
}

}  // namespace xfed
