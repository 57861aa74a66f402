// Stats-round cost and federated-vs-centralized agreement, on a saved model.
//
//   cost      : collect_evidence (the client's work in a stats round) vs evaluate() on the
//               same samples; hidden layers only (input statistics are uploaded once per
//               client, see coordinator.h), with the input layer, and with unrounded
//               float32 activations (bf16=0: float32 BLAS instead of bf16 matrix units)
//   agreement : DiLOSS from the 10 clients' summed statistics vs from one pass over their
//               union: max relative difference and overlap of the kept sets (20 % kept)
// Usage: build/bin/bench_pruning_stats MODEL_FILE
#include <ATen/ATen.h>

#include <array>
#include <chrono>
#include <cstdio>

#include <torch/csrc/autograd/grad_mode.h>

#include "app/run_setup.h"
#include "app/simulation.h"
#include "coordinator/model_file.h"
#include "core/evaluate.h"
#include "pruning/di.h"
#include "pruning/planner.h"
#include "worker/stats_collector.h"

using namespace xfed;
using Clock = std::chrono::steady_clock;

namespace {

template <typename F>
double best_of(int reps, F fn) {
  double best = 1e9;
  for (int i = 0; i < reps; ++i) {
    const auto t = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t).count());
  }
  return best;
}

Dataset first(const Dataset& d, int64_t n) {
  return Dataset{d.images.narrow(0, 0, n), d.labels.narrow(0, 0, n), d.classes};
}

// Seconds for: evaluation, stats (hidden), stats (with input), stats (hidden, float32 as
// is). Interleaved, so that every pass sees the same state of this shared machine.
std::array<double, 4> cost_of(NetImpl& net, const Dataset& data) {
  worker::StatsRequest hidden, with_input;
  hidden.skip_input = true;
  auto hidden_fp32 = hidden;
  hidden_fp32.rounding = pruning::ClassStats::Rounding::kNone;
  std::array<double, 4> t{1e9, 1e9, 1e9, 1e9};
  for (int rep = 0; rep < 15; ++rep) {
    t[0] = std::min(t[0], best_of(1, [&] { evaluate(net, data); }));
    t[1] = std::min(t[1], best_of(1, [&] { worker::collect_evidence(net, data, hidden); }));
    t[3] = std::min(t[3], best_of(1, [&] { worker::collect_evidence(net, data, hidden_fp32); }));
    if (rep % 3 == 0) t[2] = std::min(t[2], best_of(1, [&] { worker::collect_evidence(net, data, with_input); }));
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL_FILE\n", argv[0]);
    return 2;
  }
  app::use_single_intraop_thread();
  auto net = coordinator::load_model_file(argv[1]).value_or_throw();
  app::RunConfig config;
  const auto setup = app::make_run_setup(config);
  const auto data = setup.clients->client_data(0);

  std::printf("stats round cost, %s, one core (best of 15 interleaved runs); ratios to evaluate() "
              "(batch 1000) on the same samples\n\n", net->spec().arch.c_str());
  std::printf("| %-40s | %-22s | %-22s |\n", "pass", "1000 samples (default)", "6000 (a whole client)");
  std::printf("|------------------------------------------|------------------------|------------------------|\n");
  const auto small = first(data, 1000);
  const auto a = cost_of(*net, small), b = cost_of(*net, data);
  const char* rows[] = {"evaluation", "stats: hidden layers (every stats round)",
                        "stats: + input layer (once per client)", "stats: hidden, bf16=0 (float32 BLAS)"};
  for (int r = 0; r < 4; ++r)
    std::printf("| %-40s | %7.2f ms %10.2fx | %7.2f ms %10.2fx |\n", rows[r], 1e3 * a[r], a[r] / a[0], 1e3 * b[r],
                b[r] / b[0]);
  std::printf("goal: stats (hidden layers) <= 1.2x evaluation\n");

  // Breakdown for one batch of 1000: the forward pass with taps, then each tap's statistics.
  {
    torch::NoGradGuard no_grad;
    net->eval();
    const auto x = data.images.narrow(0, 0, 1000);
    const auto y = data.labels.narrow(0, 0, 1000);
    std::vector<at::Tensor> taps;
    const double t_plain = best_of(5, [&] { net->forward(x); });
    const double t_fwd = best_of(5, [&] { taps.clear(); net->forward_features(x, &taps); });
    std::printf("\nbreakdown, one batch of 1000: forward %.2f ms, forward with taps %.2f ms", 1e3 * t_plain,
                1e3 * t_fwd);
    const auto layers = net->prunable_layers();
    for (size_t t = 0; t < taps.size(); ++t) {
      auto stats = pruning::ClassStats::zeros(taps[t].size(1), 10);
      const double ta = best_of(5, [&] { stats.accumulate(taps[t], y); });
      std::printf(", %s statistics %.2f ms", layers[net->tap_layers()[t]].name.c_str(), 1e3 * ta);
    }
    std::printf("\n");
  }

  // Agreement: the 10 clients' summed statistics vs one pass over their union (both
  // bfloat16, the default), and bfloat16 vs unrounded float32 statistics of the union.
  worker::StatsRequest bf16, fp32;
  fp32.rounding = pruning::ClassStats::Rounding::kNone;
  pruning::Evidence summed;
  std::vector<at::Tensor> xs, ys;
  for (int64_t c = 0; c < setup.clients->num_clients(); ++c) {
    const auto d = setup.clients->client_data(c);
    (void)summed.add(worker::collect_evidence(*net, d, bf16));
    xs.push_back(d.images);
    ys.push_back(d.labels);
  }
  const Dataset all{at::cat(xs), at::cat(ys), 10};
  const auto central = worker::collect_evidence(*net, all, bf16);
  const auto central_fp32 = worker::collect_evidence(*net, all, fp32);
  std::printf("\nDiLOSS agreement per layer: max difference relative to the largest score, and overlap\n"
              "of the kept sets (top 20 %%)\n\n");
  std::printf("| %-8s | %-40s | %-40s |\n", "layer", "federated (10 clients) vs centralized",
              "bfloat16 vs float32 statistics");
  std::printf("|----------|------------------------------------------|------------------------------------------|\n");
  const auto layers = net->prunable_layers();
  for (size_t t = 0; t < central.taps.size(); ++t) {
    const auto rho = pruning::RhoOptions{layers[t].name == "input" ? 0.05 : 5.0, 0};
    const int64_t keep = std::max<int64_t>(1, layers[t].units / 5);
    const auto c = pruning::di_scores(*central.taps[t], rho).value();
    std::printf("| %-8s |", layers[t].name.c_str());
    const std::array<const pruning::Evidence*, 2> others{&summed, &central_fp32};
    for (const auto* other : others) {
      const auto o = pruning::di_scores(*other->taps[t], rho).value();
      const double diff = ((o.diloss - c.diloss).abs().max() / c.diloss.abs().max()).item<double>();
      const auto x = pruning::top_units(o.diloss, keep), y = pruning::top_units(c.diloss, keep);
      std::vector<int64_t> both;
      std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(both));
      std::printf(" %9.2e, %4zu / %-4lld kept (%3.0f%%)       |", diff, both.size(),
                  static_cast<long long>(keep), 100.0 * both.size() / keep);
    }
    std::printf("\n");
  }
  return 0;
}
