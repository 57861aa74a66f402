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

// Coordinates sorted together by the sorting network: one row of each update per block (the
// block of 50 updates stays in L1; fewer lanes pay more loop overhead per comparator).
constexpr int64_t kLanes = 128;
// Above this many updates a sort per coordinate beats the network's n·log²n comparators.
constexpr int64_t kMaxNetworkInputs = 256;

using Comparators = std::vector<std::pair<int32_t, int32_t>>;

// Batcher's odd-even merge sort for n inputs: the network of the next power of two without
// the comparators that touch a wire >= n. Those wires would hold +inf, which no comparator
// moves (the smaller value always goes to the lower wire), so what is left sorts n values.
Comparators sorting_network(int64_t n) {
  int64_t size = 1;
  while (size < n) size <<= 1;
  Comparators net;
  for (int64_t p = 1; p < size; p <<= 1)
    for (int64_t k = p; k >= 1; k >>= 1)
      for (int64_t j = k % p; j + k < size; j += 2 * k)
        for (int64_t i = 0; i < std::min(k, size - j - k); ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n)
            net.emplace_back(static_cast<int32_t>(i + j), static_cast<int32_t>(i + j + k));
  return net;
}

// The comparators of `net` that the values on `wanted` wires depend on (a backward pass: a
// comparator matters if it writes a wire that matters, and then both its inputs matter).
Comparators needed_for(const Comparators& net, int64_t n, const std::vector<int64_t>& wanted) {
  std::vector<char> matters(n, 0);
  for (int64_t w : wanted) matters[w] = 1;
  Comparators kept;
  for (auto it = net.rbegin(); it != net.rend(); ++it)
    if (matters[it->first] || matters[it->second]) {
      matters[it->first] = matters[it->second] = 1;
      kept.push_back(*it);
    }
  std::reverse(kept.begin(), kept.end());
  return kept;
}

// Sorts each of the kLanes columns of rows[n][kLanes] ascending. Only min and max, so the
// same bits on every CPU; compiled for AVX-512, AVX2 and the baseline, picked at load time.
__attribute__((target_clones("avx512f", "avx2", "default")))
void sort_columns(float* rows, const Comparators& net) {
  for (const auto& [a, b] : net) {
    float* x = rows + a * kLanes;
    float* y = rows + b * kLanes;
    for (int64_t k = 0; k < kLanes; ++k) {
      const float lo = y[k] < x[k] ? y[k] : x[k];
      const float hi = y[k] < x[k] ? x[k] : y[k];
      x[k] = lo;
      y[k] = hi;
    }
  }
}

// Sorts each column of rows[n][kLanes] one by one (above kMaxNetworkInputs).
void sort_columns_one_by_one(float* rows, int64_t n) {
  std::vector<float> column(n);
  for (int64_t k = 0; k < kLanes; ++k) {
    for (int64_t i = 0; i < n; ++i) column[i] = rows[i * kLanes + k];
    std::sort(column.begin(), column.end());
    for (int64_t i = 0; i < n; ++i) rows[i * kLanes + k] = column[i];
  }
}

// Blocks of kLanes coordinates, in parallel: each block's values as rows[n][kLanes] (one row
// per update), its columns sorted ascending on the wires `wanted` needs (the whole network
// when empty), then reduce(rows, out) writes the block's `lanes` results.
template <class Reduce>
at::Tensor per_coordinate_sorted(const std::vector<ClientUpdate>& updates, const std::vector<int64_t>& wanted,
                                 Reduce reduce) {
  const auto p = pointers_of(updates);
  const int64_t n = static_cast<int64_t>(p.size());
  const int64_t d = updates.front().delta.numel();
  auto out = at::empty({d}, at::kFloat);
  float* o = out.data_ptr<float>();
  const bool network = n <= kMaxNetworkInputs;
  Comparators net;
  if (network) net = wanted.empty() ? sorting_network(n) : needed_for(sorting_network(n), n, wanted);
  at::parallel_for(0, (d + kLanes - 1) / kLanes, 8, [&](int64_t b0, int64_t b1) {
    std::vector<float> rows(n * kLanes, 0.0f);
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t j0 = b * kLanes, lanes = std::min(kLanes, d - j0);
      for (int64_t i = 0; i < n; ++i) std::copy(p[i] + j0, p[i] + j0 + lanes, rows.data() + i * kLanes);
      if (network)
        sort_columns(rows.data(), net);
      else
        sort_columns_one_by_one(rows.data(), n);
      reduce(rows.data(), lanes, o + j0);
    }
  });
  return out;
}

// Σ (a_j − b_j)² in float64: kSumLanes partial sums (coordinate j into lane j mod kSumLanes),
// added in lane order at the end — a fixed order, so the same bits on every CPU, and one
// that vectorizes.
constexpr int64_t kSumLanes = 8;
__attribute__((target_clones("avx512f", "avx2", "default")))
double squared_distance(const float* a, const float* b, int64_t d) {
  double lane[kSumLanes] = {};
  int64_t j = 0;
  for (; j + kSumLanes <= d; j += kSumLanes)
    for (int64_t k = 0; k < kSumLanes; ++k) {
      const double x = static_cast<double>(a[j + k]) - b[j + k];
      lane[k] += x * x;
    }
  for (int64_t k = 0; j < d; ++j, ++k) {
    const double x = static_cast<double>(a[j]) - b[j];
    lane[k] += x * x;
  }
  double s = 0;
  for (double v : lane) s += v;
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
  const int64_t n = static_cast<int64_t>(updates.size()), mid = n / 2;
  const std::vector<int64_t> wanted = n % 2 ? std::vector<int64_t>{mid} : std::vector<int64_t>{mid - 1, mid};
  return per_coordinate_sorted(updates, wanted, [n, mid](const float* rows, int64_t lanes, float* out) {
    const float* hi = rows + mid * kLanes;
    const float* lo = rows + (n % 2 ? mid : mid - 1) * kLanes;
    for (int64_t k = 0; k < lanes; ++k) out[k] = static_cast<float>((static_cast<double>(lo[k]) + hi[k]) / 2);
  });
}

at::Tensor trimmed_mean(const std::vector<ClientUpdate>& updates, double beta) {
  XFED_CHECK(beta >= 0 && beta < 0.5, "trimmed_mean: beta outside [0, 0.5)");
  const int64_t n = static_cast<int64_t>(updates.size());
  const int64_t cut = static_cast<int64_t>(std::floor(beta * static_cast<double>(n)));
  return per_coordinate_sorted(updates, {}, [n, cut](const float* rows, int64_t lanes, float* out) {
    double sum[kLanes] = {};  // per coordinate, the middle values in ascending order
    for (int64_t i = cut; i < n - cut; ++i)
      for (int64_t k = 0; k < kLanes; ++k) sum[k] += rows[i * kLanes + k];
    for (int64_t k = 0; k < lanes; ++k) out[k] = static_cast<float>(sum[k] / static_cast<double>(n - 2 * cut));
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
