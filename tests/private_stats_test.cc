// The bounds and noise of private class statistics (pruning/private_stats.h), against
// closed forms on hand-made activations.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>

#include "pruning/di.h"
#include "pruning/private_stats.h"

namespace xfed::pruning {
namespace {

// Activation rows of norms spread over two orders of magnitude, and their labels.
std::pair<at::Tensor, at::Tensor> rows(int64_t n, int64_t m, int64_t classes, uint64_t seed) {
  at::manual_seed(seed);
  const auto scale = at::exp(at::linspace(-2.0, 2.5, n, at::kDouble)).unsqueeze(1);
  return {(at::randn({n, m}, at::kDouble) * scale).relu(), at::randint(0, classes, {n}, at::kLong)};
}

ClassStats deep_copy(const ClassStats& s) { return {s.counts.clone(), s.sums.clone(), s.second.clone()}; }

ClassStats stats_of(const at::Tensor& x, const at::Tensor& y, int64_t classes) {
  auto s = ClassStats::zeros(x.size(1), classes);
  s.accumulate(x, y);
  return s;
}

TEST(PrivateStats, RowsAboveTheRmsBoundAreScaledToItAndTheOthersKept) {
  const auto [x, y] = rows(200, 30, 4, 1);
  const double rms = 1.5, bound = rms * std::sqrt(30.0);
  const auto clipped = clip_rows_rms(x, rms);
  for (int64_t i = 0; i < x.size(0); ++i) {
    const double before = x[i].norm().item<double>(), after = clipped[i].norm().item<double>();
    if (before <= bound) {
      EXPECT_TRUE(at::equal(clipped[i], x[i])) << i;
    } else {
      EXPECT_NEAR(after, bound, 1e-12 * bound) << i;
      EXPECT_TRUE(at::allclose(clipped[i] * (before / after), x[i], 1e-12, 1e-12)) << i;  // same direction
    }
  }
  const auto f = clip_rows_rms(x.to(at::kFloat), rms);
  EXPECT_EQ(f.scalar_type(), at::kFloat);
  EXPECT_LE(f.to(at::kDouble).norm(2, {1}).max().item<double>(), bound * (1 + 1e-6));
}

TEST(PrivateStats, AContributionIsThePerSampleAverageWithinItsBounds) {
  const int64_t m = 20, classes = 5;
  const double rms = 0.8, clip = rms * std::sqrt(static_cast<double>(m));
  const auto [x, y] = rows(300, m, classes, 2);
  const auto s = stats_of(clip_rows_rms(x, rms), y, classes);
  const auto bounded = bounded_contribution(s, clip);
  // An honest client (rows clipped) is only divided by its count: nothing is clipped.
  EXPECT_TRUE(at::allclose(bounded.counts, s.counts / 300.0, 0, 1e-15));
  EXPECT_TRUE(at::allclose(bounded.sums, s.sums / 300.0, 0, 1e-15));
  EXPECT_TRUE(at::allclose(bounded.second, s.second / 300.0, 0, 1e-13));
  EXPECT_LE(bounded.counts.norm().item<double>(), 1 + 1e-12);
  EXPECT_LE(bounded.sums.norm().item<double>(), clip * (1 + 1e-12));
  EXPECT_LE(bounded.second.norm().item<double>(), clip * clip * (1 + 1e-12));
  // A client that did not clip (or lies) is clipped part by part, to its bound exactly.
  const auto hostile = bounded_contribution(stats_of(x * 1000, y, classes), clip);
  EXPECT_NEAR(hostile.sums.norm().item<double>(), clip, 1e-9 * clip);
  EXPECT_NEAR(hostile.second.norm().item<double>(), clip * clip, 1e-9 * clip * clip);
  EXPECT_EQ(bounded_contribution(ClassStats::zeros(m, classes), clip).samples(), 0);
}

TEST(PrivateStats, NoiseHasTheStatedStdOnEachPartAndKeepsTheSecondMomentSymmetric) {
  const int64_t m = 80, classes = 10;
  const double sigma = 0.7, clip = 3;
  auto s = ClassStats::zeros(m, classes);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  int64_t drawn = 0;
  add_private_noise(s, sigma, clip, [&](int64_t n) {
    drawn += n;
    return at::normal(0.0, 1.0, {n}, gen, at::kDouble);
  });
  EXPECT_EQ(drawn, classes + m * classes + m * (m + 1) / 2);
  EXPECT_TRUE(at::equal(s.second, s.second.t()));
  // Sample std of n normals: relative standard error 1/sqrt(2n); allow 5 of them.
  auto expect_std = [](const at::Tensor& v, double std) {
    const double n = static_cast<double>(v.numel());
    EXPECT_NEAR(v.std().item<double>(), std, 5 * std / std::sqrt(2 * n)) << n;
  };
  expect_std(s.sums.flatten(), sigma * clip);
  const auto upper = at::triu_indices(m, m, 0, at::kLong);
  expect_std(s.second.index({upper[0], upper[1]}), sigma * clip * clip);
  EXPECT_LT(s.counts.abs().max().item<double>(), 6 * sigma);
}

TEST(PrivateStats, UsableStatisticsLeaveOutRareClassesAndHaveAPositiveSemidefiniteScatter) {
  const int64_t m = 12, classes = 4;
  const auto [x, y] = rows(400, m, classes, 3);
  const auto clean = stats_of(x, y, classes);
  auto kept = deep_copy(clean);
  make_usable(kept, 0.5);  // valid statistics: unchanged up to rounding
  EXPECT_TRUE(at::allclose(kept.second, clean.second, 1e-9, 1e-9 * clean.second.abs().max().item<double>()));
  EXPECT_TRUE(at::equal(kept.sums, clean.sums));

  auto noisy = deep_copy(clean);
  noisy.counts[3] = 0.3;  // below the floor: left out
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto bump = at::normal(0.0, 50.0, {m, m}, gen, at::kDouble);
  noisy.second += bump + bump.t();
  make_usable(noisy, 0.5);
  EXPECT_EQ(noisy.counts[3].item<double>(), 0);
  EXPECT_EQ(noisy.sums.select(1, 3).abs().sum().item<double>(), 0);
  const auto moments = centered_moments(noisy);
  ASSERT_TRUE(moments);
  const double top = at::linalg_eigvalsh(moments.value().sbar).max().item<double>();
  EXPECT_GE(at::linalg_eigvalsh(moments.value().sbar).min().item<double>(), -1e-9 * top);
  EXPECT_TRUE(di_scores(noisy, RhoOptions{}));
}

}  // namespace
}  // namespace xfed::pruning
