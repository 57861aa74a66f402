#include "compression/kmeans.h"

#include <algorithm>
#include <cmath>

namespace xfed::compression {
namespace {

// The index of the centroid nearest v (ties to the lower one): centroids are increasing,
// so it is the number of midpoints strictly below v.
uint32_t nearest(const std::vector<double>& midpoints, float v) {
  return static_cast<uint32_t>(std::lower_bound(midpoints.begin(), midpoints.end(), static_cast<double>(v)) -
                               midpoints.begin());
}

std::vector<double> midpoints_of(const std::vector<double>& c) {
  std::vector<double> m(c.size() > 0 ? c.size() - 1 : 0);
  for (size_t j = 0; j + 1 < c.size(); ++j) m[j] = 0.5 * (c[j] + c[j + 1]);
  return m;
}

}  // namespace

Result<SharedWeights> share_weights(const std::vector<float>& values, int k, int max_iterations) {
  if (k < 1 || k > (1 << 16)) return Status::usage("weight sharing: " + std::to_string(k) + " clusters (1 to 65536)");
  if (values.empty()) return Status::usage("weight sharing: no weights");
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) return Status::usage("weight sharing: weight " + std::to_string(i) + " is not finite");
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  std::vector<double> c(static_cast<size_t>(k));
  for (int j = 0; j < k; ++j)
    c[j] = k == 1 ? 0.5 * (static_cast<double>(*lo) + *hi) : *lo + (static_cast<double>(*hi) - *lo) * j / (k - 1);
  SharedWeights out;
  out.index.assign(values.size(), 0);
  bool first = true;
  for (out.iterations = 0; out.iterations < max_iterations; ++out.iterations) {
    const auto mid = midpoints_of(c);
    bool changed = first;
    first = false;
    std::vector<double> sum(c.size(), 0.0);
    std::vector<uint64_t> n(c.size(), 0);
    for (size_t i = 0; i < values.size(); ++i) {
      const uint32_t j = nearest(mid, values[i]);
      changed = changed || j != out.index[i];
      out.index[i] = j;
      sum[j] += values[i];
      ++n[j];
    }
    if (!changed) break;
    for (size_t j = 0; j < c.size(); ++j)
      if (n[j] > 0) c[j] = sum[j] / static_cast<double>(n[j]);  // stays between its neighbours' means
  }
  out.centroids.assign(c.begin(), c.end());
  return out;
}

std::vector<float> expand_shared(const SharedWeights& shared) {
  std::vector<float> w(shared.index.size());
  for (size_t i = 0; i < w.size(); ++i) w[i] = shared.centroids[shared.index[i]];
  return w;
}

}  // namespace xfed::compression
