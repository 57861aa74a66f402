// Stats-round cost and federated-vs-centralized agreement, on a saved model.
//
//   cost      : collect_evidence (the client's work in a stats round) vs evaluate() on the
//               same samples; hidden layers only (input statistics are uploaded once per
//               client, see coordinator.h) and with the input layer
//   agreement : DiLOSS from the 10 clients' summed statistics vs from one pass over their
//               union: max relative difference and overlap of the kept sets (20 % kept)
// Usage: build/bin/bench_pruning_stats MODEL_FILE [--samples N]
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include <torch/csrc/autograd/grad_mode.h>

#include "coordinator/model_file.h"
#include "core/evaluate.h"
#include "examples/run_setup.h"
#include "examples/simulation.h"
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_FILE [--samples N]\n", argv[0]);
    return 2;
  }
  int64_t samples = 10000;
  for (int i = 2; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--samples")) samples = std::atoll(argv[++i]);
  cli::use_single_intraop_thread();
  auto net = coordinator::load_model_file(argv[1]).value_or_throw();
  cli::RunConfig config;
  const auto setup = cli::make_run_setup(config);
  const auto data = first(setup.clients->client_data(0), std::min<int64_t>(samples, 6000));

  worker::StatsRequest hidden, with_input;
  hidden.skip_input = true;
  const double t_eval = best_of(5, [&] { evaluate(*net, data); });
  const double t_hidden = best_of(5, [&] { worker::collect_evidence(*net, data, hidden); });
  const double t_input = best_of(3, [&] { worker::collect_evidence(*net, data, with_input); });
  std::printf("stats round cost, %s, %lld samples, one core (best of runs)\n\n", net->spec().arch.c_str(),
              static_cast<long long>(data.size()));
  std::printf("| %-44s | %8s | %-26s |\n", "pass", "ms", "ratio to evaluation");
  std::printf("|----------------------------------------------|----------|----------------------------|\n");
  std::printf("| %-44s | %8.1f | %-26s |\n", "evaluation (evaluate(), batch 1000)", 1e3 * t_eval, "1.00x");
  std::printf("| %-44s | %8.1f | %5.2fx (goal <= 1.2)        |\n", "stats: hidden layers (every stats round)",
              1e3 * t_hidden, t_hidden / t_eval);
  std::printf("| %-44s | %8.1f | %5.2fx                      |\n", "stats: + input layer (once per client)",
              1e3 * t_input, t_input / t_eval);

  // Breakdown for one batch of 1000: the forward pass with taps, then each tap's statistics.
  {
    torch::NoGradGuard no_grad;
    net->eval();
    const auto x = data.images.narrow(0, 0, 1000);
    const auto y = data.labels.narrow(0, 0, 1000);
    std::vector<at::Tensor> taps;
    const double t_fwd = best_of(5, [&] { taps.clear(); net->forward_features(x, &taps); });
    std::printf("\nbreakdown, one batch of 1000: forward with taps %.2f ms", 1e3 * t_fwd);
    const auto layers = net->prunable_layers();
    for (size_t t = 0; t < taps.size(); ++t) {
      auto stats = pruning::ClassStats::zeros(taps[t].size(1), 10);
      const double ta = best_of(5, [&] { stats.accumulate(taps[t], y); });
      std::printf(", %s statistics %.2f ms", layers[net->tap_layers()[t]].name.c_str(), 1e3 * ta);
    }
    std::printf("\n");
  }

  pruning::Evidence summed;
  Dataset all{at::Tensor(), at::Tensor(), 10};
  std::vector<at::Tensor> xs, ys;
  for (int64_t c = 0; c < setup.clients->num_clients(); ++c) {
    const auto d = setup.clients->client_data(c);
    (void)summed.add(worker::collect_evidence(*net, d, with_input));
    xs.push_back(d.images);
    ys.push_back(d.labels);
  }
  all.images = at::cat(xs);
  all.labels = at::cat(ys);
  const auto central = worker::collect_evidence(*net, all, with_input);
  std::printf("\nfederated (10 clients, summed) vs centralized (one pass over the union)\n\n");
  std::printf("| %-8s | %-22s | %-20s |\n", "layer", "max rel. DiLOSS diff", "kept-set overlap");
  std::printf("|----------|------------------------|----------------------|\n");
  const auto layers = net->prunable_layers();
  for (size_t t = 0; t < central.taps.size(); ++t) {
    const auto rho = pruning::RhoOptions{layers[t].name == "input" ? 0.05 : 5.0, 0};
    const auto f = pruning::di_scores(*summed.taps[t], rho).value();
    const auto c = pruning::di_scores(*central.taps[t], rho).value();
    const double diff = ((f.diloss - c.diloss).abs().max() / c.diloss.abs().max()).item<double>();
    const int64_t keep = std::max<int64_t>(1, layers[t].units / 5);
    const auto a = pruning::top_units(f.diloss, keep), b = pruning::top_units(c.diloss, keep);
    std::vector<int64_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    std::printf("| %-8s | %22.2e | %5zu / %-5lld (%3.0f%%) |\n", layers[t].name.c_str(), diff, both.size(),
                static_cast<long long>(keep), 100.0 * both.size() / keep);
  }
  return 0;
}
