#include "coordinator/aggregator.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/check.h"
#include "core/parse.h"
#include "core/registry.h"
#include "coordinator/robust_aggregation.h"

namespace xfed::coordinator {
namespace {

at::Tensor sorted_weighted_mean(const std::vector<ClientUpdate>& updates) {
  XFED_CHECK(!updates.empty(), "weighted_mean of no updates");
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

void register_builtin_aggregators(Registry<AggregatorFactory>& r) {
  r.add("mean", [](const std::optional<std::string>& arg) -> Result<Aggregator> {
     if (arg) return Status::usage("--aggregate 'mean:" + *arg + "': mean takes no argument");
     return Aggregator([](const std::vector<ClientUpdate>& u) -> Result<at::Tensor> { return sorted_weighted_mean(u); });
   }).throw_if_error();
  add_robust_aggregators([&r](const std::string& name, AggregatorFactory factory) {
    r.add(name, std::move(factory)).throw_if_error();
  });
}

Registry<AggregatorFactory>& aggregators() {
  static Registry<AggregatorFactory> r("aggregator", register_builtin_aggregators);
  return r;
}

}  // namespace

Status register_aggregator(const std::string& name, AggregatorFactory factory) {
  return aggregators().add(name, std::move(factory));
}

Result<Aggregator> make_aggregator(const std::string& spec) {
  const auto [name, arg] = split_spec(spec);
  auto factory = aggregators().find(name, "--aggregate");
  if (!factory) return factory.status();
  return factory.value()(arg);
}

std::vector<std::string> added_aggregator_names() { return aggregators().added_names(); }

at::Tensor weighted_mean(std::vector<ClientUpdate>& updates) {
  std::sort(updates.begin(), updates.end(),
            [](const ClientUpdate& a, const ClientUpdate& b) { return a.client < b.client; });
  return sorted_weighted_mean(updates);
}

}  // namespace xfed::coordinator
