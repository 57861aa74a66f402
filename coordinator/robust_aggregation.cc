#include "coordinator/robust_aggregation.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"
#include "core/parse.h"

namespace xfed::coordinator {
namespace {

// Coordinates handled together: each update contributes a few cache lines per block.
constexpr int64_t kBlock = 256;

std::vector<const float*> pointers_of(const std::vector<ClientUpdate>& updates) {
  XFED_CHECK(!updates.empty(), "robust aggregation of no updates");
  std::vector<const float*> p;
  for (const auto& u : updates) {
    XFED_CHECK(u.delta.is_contiguous() && u.delta.scalar_type() == at::kFloat &&
                   u.delta.numel() == updates.front().delta.numel(),
               "robust aggregation: updates must be float32 vectors of one length");
    p.push_back(u.delta.data_ptr<float>());
  }
  return p;
}

// out[j] = reduce(the n values of coordinate j, in an order of reduce's own making), blocks
// in parallel.
template <class Reduce>
at::Tensor per_coordinate(const std::vector<ClientUpdate>& updates, Reduce reduce) {
  const auto p = pointers_of(updates);
  const int64_t n = static_cast<int64_t>(p.size());
  const int64_t d = updates.front().delta.numel();
  auto out = at::empty({d}, at::kFloat);
  float* o = out.data_ptr<float>();
  at::parallel_for(0, (d + kBlock - 1) / kBlock, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> column(n);
    for (int64_t j = b0 * kBlock; j < std::min(d, b1 * kBlock); ++j) {
      for (int64_t i = 0; i < n; ++i) column[i] = p[i][j];
      o[j] = reduce(column);
    }
  });
  return out;
}

double squared_distance(const float* a, const float* b, int64_t d) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double x = static_cast<double>(a[j]) - b[j];
    s += x * x;
  }
  return s;
}

// Symmetric n x n matrix of squared distances, each pair summed in coordinate order.
std::vector<double> pairwise_squared_distances(const std::vector<const float*>& p, int64_t d) {
  const int64_t n = static_cast<int64_t>(p.size());
  std::vector<double> dist(n * n, 0.0);
  at::parallel_for(0, n * n, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t i = k / n, j = k % n;
      if (i < j) dist[i * n + j] = squared_distance(p[i], p[j], d);
    }
  });
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) dist[i * n + j] = dist[j * n + i];
  return dist;
}

Result<double> fraction_arg(const std::string& rule, const std::optional<std::string>& arg, double lo, double hi) {
  double v = 0;
  if (!arg || !parse_double(*arg, &v) || !(v >= lo && v < hi))
    return Status::usage("--aggregate '" + rule + (arg ? ":" + *arg : "") + "': expected " + rule +
                         ":BETA with BETA in [" + short_number(lo) + ", " + short_number(hi) + ")");
  return v;
}

// "F" or "F:M" of krum/multikrum; M = 0 when not given.
Result<std::pair<int64_t, int64_t>> krum_args(const std::string& rule, const std::optional<std::string>& arg,
                                              bool takes_m) {
  const std::string usage = "--aggregate '" + rule + (arg ? ":" + *arg : "") + "': expected " + rule +
                            (takes_m ? ":F[:M], F >= 0 hostile clients and M >= 1 updates kept"
                                     : ":F, F >= 0 hostile clients");
  if (!arg) return Status::usage(usage);
  const auto parts = split_spec(*arg);
  int64_t f = 0, m = 0;
  if (!parse_int64(parts.name, &f) || f < 0 || f > 1000000) return Status::usage(usage);
  if (parts.args && (!takes_m || !parse_int64(*parts.args, &m) || m < 1 || m > 1000000))
    return Status::usage(usage);
  return std::make_pair(f, m);
}

at::Tensor mean_of_selected(const std::vector<ClientUpdate>& updates, std::vector<size_t> chosen) {
  std::sort(chosen.begin(), chosen.end());  // client-id order
  std::vector<ClientUpdate> kept;
  for (size_t i : chosen) kept.push_back(updates[i]);
  return weighted_mean(kept);
}

}  // namespace

at::Tensor coordinate_median(const std::vector<ClientUpdate>& updates) {
  return per_coordinate(updates, [](std::vector<float>& v) { return static_cast<float>(median_in_place(v)); });
}

at::Tensor trimmed_mean(const std::vector<ClientUpdate>& updates, double beta) {
  XFED_CHECK(beta >= 0 && beta < 0.5, "trimmed_mean: beta outside [0, 0.5)");
  const size_t cut = static_cast<size_t>(std::floor(beta * static_cast<double>(updates.size())));
  return per_coordinate(updates, [cut](std::vector<float>& v) {
    if (cut > 0) {  // the cut smallest before position cut, the cut largest after n-cut-1
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(cut), v.end());
      std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(cut), v.end() - static_cast<std::ptrdiff_t>(cut) - 1,
                       v.end());
    }
    double s = 0;  // nth_element is deterministic: client-id order in, one order of the middle out
    for (size_t i = cut; i < v.size() - cut; ++i) s += v[i];
    return static_cast<float>(s / static_cast<double>(v.size() - 2 * cut));
  });
}

Result<std::vector<size_t>> krum_selection(const std::vector<ClientUpdate>& updates, int64_t f, int64_t keep) {
  const int64_t n = static_cast<int64_t>(updates.size());
  if (n < 2 * f + 3)
    return Status::too_few("Krum with F = " + std::to_string(f) + " needs at least 2F+3 = " +
                           std::to_string(2 * f + 3) + " updates, " + std::to_string(n) + " came");
  const auto dist = pairwise_squared_distances(pointers_of(updates), updates.front().delta.numel());
  std::vector<double> score(n);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> others;
    for (int64_t j = 0; j < n; ++j)
      if (j != i) others.push_back(dist[i * n + j]);
    std::sort(others.begin(), others.end());
    score[i] = std::accumulate(others.begin(), others.begin() + (n - f - 2), 0.0);
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  order.resize(std::min(keep, n));
  return order;
}

at::Tensor centered_clipping(const std::vector<ClientUpdate>& updates, double tau, int64_t iterations) {
  const auto p = pointers_of(updates);
  const int64_t d = updates.front().delta.numel();
  const double n = static_cast<double>(p.size());
  auto center = coordinate_median(updates).to(at::kDouble);
  double* v = center.data_ptr<double>();
  for (int64_t it = 0; it < iterations; ++it) {
    std::vector<double> weight(p.size());  // clip factor of delta_i - v
    at::parallel_for(0, static_cast<int64_t>(p.size()), 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        double s = 0;
        for (int64_t j = 0; j < d; ++j) s += (p[i][j] - v[j]) * (p[i][j] - v[j]);
        weight[i] = std::min(1.0, tau / std::max(std::sqrt(s), 1e-300)) / n;
      }
    });
    at::parallel_for(0, d, 4096, [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) {
        double step = 0;
        for (size_t i = 0; i < p.size(); ++i) step += weight[i] * (p[i][j] - v[j]);
        v[j] += step;
      }
    });
  }
  return center.to(at::kFloat);
}

void add_robust_aggregators(const AggregatorAdder& add) {
  add("median", [](const std::optional<std::string>& arg) -> Result<Aggregator> {
    if (arg) return Status::usage("--aggregate 'median:" + *arg + "': median takes no argument");
    return Aggregator([](const std::vector<ClientUpdate>& u) -> Result<at::Tensor> { return coordinate_median(u); });
  });
  add("trimmed", [](const std::optional<std::string>& arg) -> Result<Aggregator> {
    auto beta = fraction_arg("trimmed", arg, 0, 0.5);
    if (!beta) return beta.status();
    return Aggregator([b = beta.value()](const std::vector<ClientUpdate>& u) -> Result<at::Tensor> {
      return trimmed_mean(u, b);
    });
  });
  for (const bool multi : {false, true}) {
    const std::string rule = multi ? "multikrum" : "krum";
    add(rule, [rule, multi](const std::optional<std::string>& arg) -> Result<Aggregator> {
      auto fm = krum_args(rule, arg, multi);
      if (!fm) return fm.status();
      const auto [f, m] = fm.value();
      return Aggregator([f = f, m = m, multi](const std::vector<ClientUpdate>& u) -> Result<at::Tensor> {
        const int64_t n = static_cast<int64_t>(u.size());
        auto chosen = krum_selection(u, f, multi ? (m > 0 ? m : n - f) : 1);
        if (!chosen) return chosen.status();
        return mean_of_selected(u, chosen.value());
      });
    });
  }
  add("cclip", [](const std::optional<std::string>& arg) -> Result<Aggregator> {
    const std::string usage = "--aggregate 'cclip" + (arg ? ":" + *arg : std::string()) +
                              "': expected cclip:TAU[:ITERS], TAU > 0 the clipping radius, ITERS in [1, 100] (3)";
    if (!arg) return Status::usage(usage);
    const auto parts = split_spec(*arg);
    double tau = 0;
    int64_t iterations = 3;
    if (!parse_double(parts.name, &tau) || !(tau > 0)) return Status::usage(usage);
    if (parts.args && (!parse_int64(*parts.args, &iterations) || iterations < 1 || iterations > 100))
      return Status::usage(usage);
    return Aggregator([tau, iterations](const std::vector<ClientUpdate>& u) -> Result<at::Tensor> {
      return centered_clipping(u, tau, iterations);
    });
  });
}

}  // namespace xfed::coordinator
