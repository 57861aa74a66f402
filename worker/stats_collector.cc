#include "worker/stats_collector.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/functional/loss.h>

#include "pruning/private_stats.h"

namespace xfed::worker {
namespace {

constexpr int64_t kBatch = 3000;  // per-batch overheads amortized (evaluate() costs the same at 1000)

// A tap as [samples, units] plus matching labels.
std::pair<at::Tensor, at::Tensor> as_rows(const at::Tensor& tap, const at::Tensor& y, bool spatial) {
  if (tap.dim() == 2) return {tap, y};
  if (!spatial) return {tap.mean({2, 3}), y};
  const int64_t c = tap.size(1), positions = tap.size(2) * tap.size(3);
  return {tap.permute({0, 2, 3, 1}).reshape({-1, c}), y.repeat_interleave(positions)};
}

at::Tensor sample_indices(int64_t n, int64_t want, uint64_t seed) {
  if (want <= 0 || want >= n) return at::arange(n, at::kLong);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return std::get<0>(at::randperm(n, gen, at::kLong).narrow(0, 0, want).sort());
}

// Sum over samples (and positions) of activation x gradient, per unit.
at::Tensor taylor_sum(const at::Tensor& tap) {
  const auto prod = (tap * tap.grad()).detach().to(at::kDouble);
  return prod.dim() == 2 ? prod.sum(0) : prod.sum({0, 2, 3});
}

}  // namespace

pruning::Evidence collect_evidence(NetImpl& net, const Dataset& data, const StatsRequest& req) {
  const auto idx = sample_indices(data.size(), req.samples, req.seed);
  const bool all = idx.numel() == data.size();  // views of the data, no gather
  const auto tap_layer = net.tap_layers();
  const auto layers = net.prunable_layers();
  pruning::Evidence ev;
  ev.taps.resize(tap_layer.size());
  net.eval();
  for (int64_t start = 0; start < idx.numel(); start += kBatch) {
    const auto batch = idx.narrow(0, start, std::min(kBatch, idx.numel() - start));
    auto x = all ? data.images.narrow(0, start, batch.numel()) : data.images.index_select(0, batch);
    const auto y = all ? data.labels.narrow(0, start, batch.numel()) : data.labels.index_select(0, batch);
    torch::AutoGradMode grad(req.taylor);
    if (req.taylor) x.requires_grad_(true);
    std::vector<at::Tensor> taps;
    const auto logits = net.forward_features(x, &taps);
    if (req.taylor) {
      for (auto& t : taps) t.retain_grad();
      torch::nn::functional::cross_entropy(
          logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
          .backward();
      if (ev.taylor_sums.empty())
        for (const auto& t : taps) ev.taylor_sums.push_back(at::zeros({t.size(1)}, at::kDouble));
      for (size_t t = 0; t < taps.size(); ++t) ev.taylor_sums[t] += taylor_sum(taps[t]);
      ev.taylor_samples += static_cast<double>(batch.numel());
    }
    torch::NoGradGuard no_grad;
    for (size_t t = 0; t < taps.size(); ++t) {
      if (req.skip_input && layers[tap_layer[t]].name == "input") continue;
      auto [rows, labels] = as_rows(taps[t].detach(), y, req.spatial);
      if (req.clip_rms > 0) rows = pruning::clip_rows_rms(rows, req.clip_rms);
      if (req.clip_abs > 0) rows = rows.clamp(-req.clip_abs, req.clip_abs);
      if (!ev.taps[t]) ev.taps[t] = pruning::ClassStats::zeros(rows.size(1), data.classes);
      ev.taps[t]->accumulate(rows, labels, req.rounding);
    }
  }
  for (size_t t = 0; t < ev.taps.size(); ++t)
    if (ev.taps[t]) ev.taps[t]->add_noise(req.noise, req.seed + t);
  net.train();
  return ev;
}

}  // namespace xfed::worker
