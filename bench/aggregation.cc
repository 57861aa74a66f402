// The coordinator's aggregation time per rule, measured side by side in one run: each rule on
// the same decoded updates of `clients` clients of a model of `params` values (Fashion-MNIST
// mlp 784-300-100-10: 266610), best of `reps` interleaved repetitions, and the ratio to the
// weighted mean (the target: median and trimmed <= 1.2x).
// Usage: build/bin/bench_aggregation [clients=50] [params=266610] [reps=7]
#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "coordinator/aggregator.h"

using namespace xfed;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int64_t clients = argc > 1 ? std::atoll(argv[1]) : 50;
  const int64_t params = argc > 2 ? std::atoll(argv[2]) : 266610;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 7;
  if (clients < 5 || params < 1 || reps < 1) {
    std::fprintf(stderr, "usage: bench_aggregation [clients>=5] [params>=1] [reps>=1]\n");
    return 2;
  }
  at::manual_seed(1);
  std::vector<coordinator::ClientUpdate> updates;
  for (int64_t c = 0; c < clients; ++c) updates.push_back({c, 100 + c, at::randn({params}) * 1e-3});
  const std::vector<std::string> rules{"mean", "median", "trimmed:0.2", "krum:10", "multikrum:10", "cclip:0.1"};
  std::map<std::string, double> best;
  for (int r = 0; r < reps; ++r) {
    for (const auto& spec : rules) {  // interleaved: the box's load falls on every rule alike
      auto rule = coordinator::make_aggregator(spec).value();
      const auto t = Clock::now();
      auto out = rule(updates);
      const double s = std::chrono::duration<double>(Clock::now() - t).count();
      if (!out) {
        std::fprintf(stderr, "%s: %s\n", spec.c_str(), out.message().c_str());
        return 1;
      }
      best[spec] = r == 0 ? s : std::min(best[spec], s);
    }
  }
  std::printf("aggregation of %lld updates of %lld values, %d threads, best of %d\n\n", static_cast<long long>(clients),
              static_cast<long long>(params), at::get_num_threads(), reps);
  std::printf("| rule | ms | x mean |\n|---|---:|---:|\n");
  for (const auto& spec : rules)
    std::printf("| %s | %.1f | %.2f |\n", spec.c_str(), best[spec] * 1e3, best[spec] / best["mean"]);
  return 0;
}
