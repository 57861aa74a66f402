#include "coordinator/robust_statistics.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "coordinator/robust_aggregation.h"

namespace xfed::coordinator {
namespace {

// One client's statistics of one tap in a per-sample scale: class means (NaN for a class it
// did not see) and the diagonal of its second moment over its samples. Float64, [M*L + M].
std::vector<double> per_sample_profile(const pruning::ClassStats& s) {
  const int64_t m = s.units(), classes = s.classes();
  const double n = s.samples();
  std::vector<double> out(static_cast<size_t>(m * classes + m));
  const auto sums = s.sums.contiguous();
  const double* sum = sums.data_ptr<double>();
  const auto counts = s.counts.contiguous();
  const double* count = counts.data_ptr<double>();
  for (int64_t j = 0; j < m; ++j)
    for (int64_t l = 0; l < classes; ++l)
      out[static_cast<size_t>(j * classes + l)] = count[l] > 0 ? sum[j * classes + l] / count[l] : NAN;
  const auto diag = s.second.diagonal().contiguous();
  const double* q = diag.data_ptr<double>();
  for (int64_t j = 0; j < m; ++j) out[static_cast<size_t>(m * classes + j)] = n > 0 ? q[j] / n : NAN;
  return out;
}

// The median of the finite values (NaN if none).
double median_of(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  return v.empty() ? NAN : median_in_place(v);
}

}  // namespace

std::set<int64_t> farthest_statistics(const std::map<int64_t, pruning::Evidence>& stats, int64_t drop) {
  const int64_t n = static_cast<int64_t>(stats.size());
  drop = std::min(drop, n - 1);
  if (drop <= 0) return {};
  std::map<int64_t, double> distance;  // summed over taps
  std::map<int64_t, int> taps_sent;
  size_t taps = 0;
  for (const auto& [c, e] : stats) taps = std::max(taps, e.taps.size());
  for (size_t t = 0; t < taps; ++t) {
    std::map<int64_t, std::vector<double>> profiles;
    for (const auto& [c, e] : stats)
      if (t < e.taps.size() && e.taps[t]) profiles[c] = per_sample_profile(*e.taps[t]);
    if (profiles.size() < 2) continue;
    const size_t size = profiles.begin()->second.size();
    std::vector<double> median(size);
    for (size_t k = 0; k < size; ++k) {
      std::vector<double> column;
      for (const auto& [c, p] : profiles) column.push_back(p[k]);
      median[k] = median_of(std::move(column));
    }
    double scale = 1e-300;  // relative distance: the median's own squared norm
    for (double m : median)
      if (std::isfinite(m)) scale += m * m;
    for (const auto& [c, p] : profiles) {
      double d = 0;
      for (size_t k = 0; k < size; ++k)
        if (std::isfinite(p[k]) && std::isfinite(median[k])) d += (p[k] - median[k]) * (p[k] - median[k]);
      distance[c] += d / scale;
      ++taps_sent[c];
    }
  }
  std::vector<std::pair<double, int64_t>> ranked;  // (-mean distance, -client): farthest first
  for (const auto& [c, d] : distance) ranked.emplace_back(-d / taps_sent[c], -c);
  std::sort(ranked.begin(), ranked.end());
  std::set<int64_t> out;
  for (int64_t i = 0; i < drop && i < static_cast<int64_t>(ranked.size()); ++i) out.insert(-ranked[static_cast<size_t>(i)].second);
  return out;
}

}  // namespace xfed::coordinator
