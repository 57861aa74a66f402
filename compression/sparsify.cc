#include "compression/sparsify.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "core/rng.h"

namespace xfed::compression {
namespace {

constexpr size_t kSmallTensor = 1 << 15;
constexpr size_t kSampleSize = 1 << 13;

std::vector<uint32_t> all_indices(size_t n) {
  std::vector<uint32_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0u);
  return idx;
}

// The k-th largest |x| over the given positions (k >= 1).
float kth_largest_abs(const float* x, const std::vector<uint32_t>& positions, size_t k) {
  std::vector<float> a(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) a[i] = std::fabs(x[positions[i]]);
  std::nth_element(a.begin(), a.begin() + (k - 1), a.end(), std::greater<float>());
  return a[k - 1];
}

// From candidates (ascending), keep those with |x| > t plus, in index order, as many with
// |x| == t as needed to make k.
std::vector<uint32_t> take_top(const float* x, const std::vector<uint32_t>& cand, size_t k,
                               float t) {
  size_t above = 0;
  for (auto i : cand) above += std::fabs(x[i]) > t;
  size_t ties = k - std::min(k, above);
  std::vector<uint32_t> out;
  out.reserve(k);
  for (auto i : cand) {
    const float a = std::fabs(x[i]);
    if (a > t || (a == t && ties > 0 && ties--)) out.push_back(i);
  }
  return out;
}

// Positions with |x| >= t, ascending. Branch-free within blocks: every position is written
// to a small buffer and the cursor advances only for hits (no mispredicted branches).
std::vector<uint32_t> at_least(const float* x, size_t n, float t) {
  constexpr size_t kBlock = 4096;
  std::vector<uint32_t> out;
  uint32_t buf[kBlock];
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t end = std::min(n, start + kBlock);
    size_t hits = 0;
    for (size_t i = start; i < end; ++i) {
      buf[hits] = static_cast<uint32_t>(i);
      hits += std::fabs(x[i]) >= t;
    }
    out.insert(out.end(), buf, buf + hits);
  }
  return out;
}

// The value at quantile q (0..1) of |x| over a pseudo-random sample of positions.
float sampled_quantile(const float* x, size_t n, size_t m, double q, uint64_t seed) {
  std::vector<float> s(m);
  for (size_t j = 0; j < m; ++j) s[j] = std::fabs(x[splitmix64(seed + j) % n]);
  const size_t pos = std::min(m - 1, static_cast<size_t>(q * static_cast<double>(m)));
  std::nth_element(s.begin(), s.begin() + pos, s.end());
  return s[pos];
}

}  // namespace

size_t k_for_ratio(size_t n, double ratio) {
  if (n == 0) return 0;
  const auto k = static_cast<size_t>(std::llround(ratio * static_cast<double>(n)));
  return std::clamp<size_t>(k, 1, n);
}

std::vector<uint32_t> topk_indices(const float* x, size_t n, size_t k) {
  if (k >= n) return all_indices(n);
  if (k == 0) return {};
  if (n <= kSmallTensor || k * 8 > n) {
    const auto all = all_indices(n);
    return take_top(x, all, k, kth_largest_abs(x, all, k));
  }
  // Aim for ~1.5k candidates; widen the margin until at least k pass the threshold.
  for (double margin = 1.5; margin < 1e9; margin *= 4) {
    const double q = 1.0 - std::min(1.0, margin * static_cast<double>(k) / static_cast<double>(n));
    const float t0 = sampled_quantile(x, n, kSampleSize, q, 0x5eed);
    auto cand = at_least(x, n, t0);
    if (cand.size() >= k) return take_top(x, cand, k, kth_largest_abs(x, cand, k));
    if (q <= 0.0) break;
  }
  const auto all = all_indices(n);  // only reached for pathological inputs
  return take_top(x, all, k, kth_largest_abs(x, all, k));
}

std::vector<uint32_t> dgc_topk_indices(const float* x, size_t n, size_t k, uint64_t seed) {
  if (k >= n || n <= kSmallTensor) return topk_indices(x, n, k);
  if (k == 0) return {};
  const size_t m = std::max<size_t>(kSampleSize / 8, n / 100);
  const double q = 1.0 - static_cast<double>(k) / static_cast<double>(n);
  auto cand = at_least(x, n, sampled_quantile(x, n, m, q, seed));
  if (cand.size() > 2 * k) return take_top(x, cand, k, kth_largest_abs(x, cand, k));
  if (cand.empty()) return topk_indices(x, n, k);
  return cand;
}

std::vector<uint32_t> randk_indices(size_t n, size_t k, uint64_t seed) {
  if (k >= n) return all_indices(n);
  std::vector<uint32_t> out;
  out.reserve(k);
  std::unordered_set<uint32_t> chosen;
  uint64_t state = seed;
  for (size_t j = n - k; j < n; ++j) {  // Floyd's algorithm: k draws, no rejections
    const auto t = static_cast<uint32_t>(splitmix64(state++) % (j + 1));
    const auto pick = chosen.insert(t).second ? t : static_cast<uint32_t>(j);
    if (pick != t) chosen.insert(pick);
    out.push_back(pick);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> threshold_indices(const float* x, size_t n, float t) {
  return at_least(x, n, t);
}

std::vector<uint32_t> nonzero_indices(const float* x, size_t n) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < n; ++i)
    if (x[i] != 0.0f) out.push_back(static_cast<uint32_t>(i));
  return out;
}

}  // namespace xfed::compression
