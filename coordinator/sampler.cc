#include "coordinator/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/check.h"
#include "core/rng.h"

namespace xfed::coordinator {

std::vector<int64_t> sample_clients(int64_t clients, double fraction, uint64_t seed,
                                    uint64_t round) {
  XFED_CHECK(clients >= 1 && fraction > 0 && fraction <= 1, "bad sampling parameters");
  const int64_t m = std::clamp<int64_t>(std::llround(fraction * clients), 1, clients);
  std::vector<int64_t> ids(clients);
  std::iota(ids.begin(), ids.end(), 0);
  std::mt19937_64 rng(mix_seed(seed, kStreamSampling, round));
  for (int64_t i = 0; i < m; ++i) {  // partial Fisher-Yates
    std::uniform_int_distribution<int64_t> pick(i, clients - 1);
    std::swap(ids[i], ids[pick(rng)]);
  }
  ids.resize(m);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<int> place_clients(const std::vector<int64_t>& sampled,
                               const std::vector<int64_t>& sizes, int workers) {
  XFED_CHECK_GE(workers, 1, "no worker ranks");
  std::vector<int> ranks(sampled.size());
  auto size_of = [&](size_t i) { return sizes.empty() ? int64_t{1} : sizes.at(sampled[i]); };
  std::vector<size_t> order(sampled.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return size_of(a) > size_of(b); });
  std::vector<int64_t> load(workers, 0);
  for (size_t i : order) {
    const int w = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    load[w] += size_of(i);
    ranks[i] = 1 + w;
  }
  return ranks;
}

std::vector<int> home_ranks(int64_t clients, const std::vector<int64_t>& sizes, int workers, uint64_t seed) {
  std::vector<int64_t> order(clients);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(mix_seed(seed, kStreamPlacement)));
  const auto ranks = place_clients(order, sizes, workers);
  std::vector<int> home(clients);
  for (size_t i = 0; i < order.size(); ++i) home[order[i]] = ranks[i];
  return home;
}

}  // namespace xfed::coordinator
