// Robust aggregation rules (`--aggregate`): what the coordinator makes of a round's decoded
// updates when some clients may be hostile. Each is registered like a user's rule
// (aggregator.cc) and is a pure function of the updates, given in client-id order, so the
// model is the same on every transport. Arithmetic is per coordinate or per client pair in a
// fixed order (never a reduction whose order follows the thread count).
//
// - median: the coordinate-wise median (Yin et al. 2018); an even count averages the two
//   middle values.
// - trimmed:BETA: per coordinate, drops the floor(BETA*n) smallest and largest values and
//   averages the rest (BETA in [0, 0.5)).
// - krum:F, multikrum:F[:M] (Blanchard et al. 2017): each update's score is the sum of its
//   squared distances to its n-F-2 nearest others; Krum returns the best-scored update,
//   Multi-Krum the sample-weighted mean of the M best (M = n-F by default). Needs n >= 2F+3.
// - cclip:TAU[:ITERS] (Karimireddy et al. 2021): centered clipping from the coordinate-wise
//   median, ITERS (3) times v += mean_i clip(delta_i - v, TAU), clip scaling a vector to norm
//   at most TAU.
// Rank-based rules ignore the sample counts clients claim: a hostile client could claim any.
#pragma once

#include <ATen/core/Tensor.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "coordinator/aggregator.h"

namespace xfed::coordinator {

at::Tensor coordinate_median(const std::vector<ClientUpdate>& updates);

// The median of `v` (not empty; reordered): the middle value, or for an even count the mean
// of the two middle ones, in float64.
template <class T>
double median_in_place(std::vector<T>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2) return static_cast<double>(*mid);
  const T below = *std::max_element(v.begin(), mid);  // the other middle value
  return (static_cast<double>(below) + *mid) / 2;
}
at::Tensor trimmed_mean(const std::vector<ClientUpdate>& updates, double beta);
// The positions (in `updates`) of the `keep` best Krum scores, best first (ties: the lower
// position). kTooFew when fewer than 2F+3 updates came.
Result<std::vector<size_t>> krum_selection(const std::vector<ClientUpdate>& updates, int64_t f, int64_t keep);
at::Tensor centered_clipping(const std::vector<ClientUpdate>& updates, double tau, int64_t iterations);

// Adds median, trimmed, krum, multikrum and cclip (aggregator.cc calls it with mean's).
using AggregatorAdder = std::function<void(const std::string& name, AggregatorFactory factory)>;
void add_robust_aggregators(const AggregatorAdder& add);

}  // namespace xfed::coordinator
