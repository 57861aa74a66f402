#include "coordinator/aggregator.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/check.h"

namespace xfed::coordinator {

at::Tensor weighted_mean(std::vector<ClientUpdate>& updates) {
  XFED_CHECK(!updates.empty(), "weighted_mean of no updates");
  std::sort(updates.begin(), updates.end(),
            [](const ClientUpdate& a, const ClientUpdate& b) { return a.client < b.client; });
  int64_t total = 0;
  for (const auto& u : updates) total += u.samples;
  XFED_CHECK_GT(total, 0, "weighted_mean: no samples");
  auto sum = at::zeros({updates.front().delta.numel()}, at::kDouble);
  for (const auto& u : updates) {
    XFED_CHECK_EQ(u.delta.numel(), sum.numel(), "update size mismatch");
    sum.add_(u.delta.to(at::kDouble), static_cast<double>(u.samples) / total);
  }
  return sum.to(at::kFloat);
}

}  // namespace xfed::coordinator
