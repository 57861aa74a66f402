#include "pruning/masked_stats.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/model.h"

namespace xfed::pruning {
namespace {

size_t tap_length(int64_t units, int64_t classes) {
  const auto m = static_cast<size_t>(units), l = static_cast<size_t>(classes);
  return units == 0 ? 0 : l + m * l + m * (m + 1) / 2;
}

// The three bounds of a tap's statistics: counts, class sums, second moments.
struct Scales {
  double count, sum, second;
};

Scales scales_of(const StatsBounds& b) {
  const double n = static_cast<double>(b.samples), a = b.activation;
  return {n, n * a, n * a * a};
}

double unit(double v, double scale) { return std::isnan(v) ? 0.0 : std::clamp(v / scale, -1.0, 1.0); }

}  // namespace

std::vector<int64_t> gathered_tap_units(const NetImpl& net, bool skip_input) {
  std::vector<int64_t> units;
  const auto layers = net.prunable_layers();
  for (int l : net.tap_layers()) units.push_back(skip_input && layers[l].name == "input" ? 0 : layers[l].units);
  return units;
}

size_t masked_stats_length(const std::vector<int64_t>& tap_units, int64_t classes) {
  size_t n = 0;
  for (int64_t m : tap_units) n += tap_length(m, classes);
  return n;
}

std::vector<double> to_unit_values(const Evidence& evidence, const std::vector<int64_t>& tap_units,
                                   int64_t classes, const StatsBounds& bounds) {
  const auto s = scales_of(bounds);
  std::vector<double> out;
  out.reserve(masked_stats_length(tap_units, classes));
  for (size_t t = 0; t < tap_units.size(); ++t) {
    const int64_t m = tap_units[t];
    if (m == 0) continue;
    const bool has = t < evidence.taps.size() && evidence.taps[t] && evidence.taps[t]->units() == m &&
                     evidence.taps[t]->classes() == classes;
    if (!has) {
      out.resize(out.size() + tap_length(m, classes), 0.0);
      continue;
    }
    const auto& st = *evidence.taps[t];
    const auto counts = st.counts.contiguous(), sums = st.sums.contiguous(), second = st.second.contiguous();
    const double* c = counts.data_ptr<double>();
    const double* x = sums.data_ptr<double>();
    const double* q = second.data_ptr<double>();
    for (int64_t l = 0; l < classes; ++l) out.push_back(unit(c[l], s.count));
    for (int64_t i = 0; i < m * classes; ++i) out.push_back(unit(x[i], s.sum));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = i; j < m; ++j) out.push_back(unit(q[i * m + j], s.second));
  }
  return out;
}

Result<Evidence> from_unit_sums(const std::vector<double>& sums, const std::vector<int64_t>& tap_units,
                                int64_t classes, const StatsBounds& bounds) {
  if (sums.size() != masked_stats_length(tap_units, classes))
    return Status::error("masked statistics: " + std::to_string(sums.size()) + " values, the taps need " +
                         std::to_string(masked_stats_length(tap_units, classes)));
  const auto s = scales_of(bounds);
  Evidence ev;
  ev.taps.resize(tap_units.size());
  size_t k = 0;
  for (size_t t = 0; t < tap_units.size(); ++t) {
    const int64_t m = tap_units[t];
    if (m == 0) continue;
    auto st = ClassStats::zeros(m, classes);
    double* c = st.counts.data_ptr<double>();
    double* x = st.sums.data_ptr<double>();
    double* q = st.second.data_ptr<double>();
    for (int64_t l = 0; l < classes; ++l) c[l] = std::max(0.0, std::round(sums[k++] * s.count));
    for (int64_t i = 0; i < m * classes; ++i) x[i] = sums[k++] * s.sum;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = i; j < m; ++j) q[i * m + j] = q[j * m + i] = sums[k++] * s.second;
    ev.taps[t] = std::move(st);
  }
  return ev;
}

bool counts_exact(int64_t summands, const StatsBounds& bounds, int bits) {
  const double top = std::ldexp(1.0, bits) - 1;
  return 4.0 * static_cast<double>(summands) * static_cast<double>(bounds.samples) < top;
}

}  // namespace xfed::pruning
