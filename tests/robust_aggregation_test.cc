// The robust rules of --aggregate against hand-computed results: medians of odd and even
// counts, trimmed means with ties, Krum's scores and selection, centered clipping's steps;
// the spec checks; too few updates for Krum; and results that do not depend on the thread
// count (the same model on every transport).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/robust_aggregation.h"

namespace xfed::coordinator {
namespace {

at::Tensor vec(std::vector<float> v) { return at::tensor(v, at::kFloat); }

std::vector<ClientUpdate> updates_of(const std::vector<std::vector<float>>& rows, std::vector<int64_t> samples = {}) {
  std::vector<ClientUpdate> u;
  for (size_t i = 0; i < rows.size(); ++i)
    u.push_back({static_cast<int64_t>(i), samples.empty() ? 1 : samples[i], vec(rows[i])});
  return u;
}

at::Tensor run(const std::string& spec, const std::vector<ClientUpdate>& u) {
  auto rule = make_aggregator(spec);
  EXPECT_TRUE(rule.is_ok()) << rule.message();
  auto out = rule.value()(u);
  EXPECT_TRUE(out.is_ok()) << out.message();
  return out.value();
}

TEST(RobustAggregation, MedianOfAnOddCountIsTheMiddleValueWhateverTheSampleCounts) {
  const auto u = updates_of({{1, 5, -2}, {3, 1, 0}, {2, 9, 4}}, {1000, 1, 1});
  EXPECT_TRUE(run("median", u).equal(vec({2, 5, 0})));
}

TEST(RobustAggregation, MedianOfAnEvenCountAveragesTheTwoMiddleValues) {
  const auto u = updates_of({{1, 5}, {3, 1}, {2, 9}, {-7, 6}});
  // sorted: {-7, 1, 2, 3} -> (1 + 2) / 2; {1, 5, 6, 9} -> (5 + 6) / 2
  EXPECT_TRUE(run("median", u).equal(vec({1.5f, 5.5f})));
}

TEST(RobustAggregation, TrimmedMeanDropsTheExtremesOfEachCoordinateTiesIncluded) {
  const auto u = updates_of({{1, -100, 4}, {1, 2, 4}, {1, 2, 4}, {10, 3, 4}});
  // beta 0.25 of 4: one value off each end. {1,1,1,10} -> mean(1,1); {-100,2,2,3} -> mean(2,2)
  EXPECT_TRUE(run("trimmed:0.25", u).equal(vec({1, 2, 4})));
  // beta 0.2 of 4 trims floor(0.8) = 0 values: the plain (unweighted) mean
  EXPECT_TRUE(run("trimmed:0.2", u).allclose(vec({13.0f / 4, -93.0f / 4, 4})));
  EXPECT_TRUE(run("trimmed:0", u).equal(run("trimmed:0.2", u)));
}

// Points 0, 1, 2, 3 and 100 (each in both coordinates); F = 1: a score sums the squared
// distances to the n - F - 2 = 2 nearest others: 0 -> 2*(1+4) = 10, 1 -> 2*(1+1) = 4,
// 2 -> 4, 3 -> 10, 100 -> 2*(97^2 + 98^2).
std::vector<ClientUpdate> krum_points() {
  return updates_of({{0, 0}, {1, 1}, {2, 2}, {3, 3}, {100, 100}}, {1, 1, 3, 1, 1});
}

TEST(RobustAggregation, KrumScoresAndSelectsTheUpdateClosestToItsNeighbours) {
  const auto order = krum_selection(krum_points(), 1, 5);
  ASSERT_TRUE(order.is_ok()) << order.message();
  EXPECT_EQ(order.value(), (std::vector<size_t>{1, 2, 0, 3, 4})) << "ties keep the lower position";
  EXPECT_TRUE(run("krum:1", krum_points()).equal(vec({1, 1})));
}

TEST(RobustAggregation, MultiKrumAveragesTheBestMBySampleCount) {
  // M = n - F = 4 by default: 0, 1, 2 (3 samples), 3 -> (0 + 1 + 6 + 3) / 6
  EXPECT_TRUE(run("multikrum:1", krum_points()).allclose(vec({10.0f / 6, 10.0f / 6})));
  // M = 2: 1 and 2 (3 samples) -> (1 + 6) / 4
  EXPECT_TRUE(run("multikrum:1:2", krum_points()).equal(vec({1.75f, 1.75f})));
  // F = 0, M = n: the weighted mean itself, bit for bit
  auto all = krum_points();
  EXPECT_TRUE(run("multikrum:0", all).equal(weighted_mean(all)));
}

TEST(RobustAggregation, KrumWithTooFewUpdatesForItsFIsTooFewNotACrash) {
  auto rule = make_aggregator("krum:1");
  ASSERT_TRUE(rule.is_ok());
  auto four = krum_points();
  four.pop_back();
  const auto out = rule.value()(four);
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.code(), StatusCode::kTooFew);
  EXPECT_EQ(out.message(), "Krum with F = 1 needs at least 2F+3 = 5 updates, 4 came");
  EXPECT_EQ(make_aggregator("multikrum:2").value()(four).code(), StatusCode::kTooFew);
}

TEST(RobustAggregation, CenteredClippingStepsFromTheMedianWithClippedDifferences) {
  const auto u = updates_of({{0}, {0}, {0}, {0}, {1000}});
  // median 0; v = 0 + (0+0+0+0 + clip(1000, 1)) / 5 = 0.2
  EXPECT_TRUE(run("cclip:1:1", u).allclose(vec({0.2f})));
  // then: four differences of -0.2 (inside the radius), one clipped to 1: v += (-0.8 + 1) / 5
  EXPECT_TRUE(run("cclip:1:2", u).allclose(vec({0.24f})));
  // every update inside the radius: one step lands on the unweighted mean
  const auto near = updates_of({{1, 2}, {2, 2}, {4, 3}}, {1, 5, 9});
  EXPECT_TRUE(run("cclip:100:1", near).allclose(vec({7.0f / 3, 7.0f / 3})));
}

TEST(RobustAggregation, BadSpecsAreOneLineUsageErrors) {
  for (const char* spec : {"median:1", "trimmed", "trimmed:0.5", "trimmed:-0.1", "trimmed:nan", "trimmed:inf",
                           "krum", "krum:-1", "krum:1.5", "krum:1:2", "krum:4294967296000", "multikrum:1:0",
                           "multikrum:x", "cclip", "cclip:0", "cclip:-1", "cclip:nan", "cclip:inf", "cclip:1:0",
                           "cclip:1:101"}) {
    const auto rule = make_aggregator(spec);
    ASSERT_FALSE(rule.is_ok()) << spec;
    EXPECT_EQ(rule.code(), StatusCode::kUsage) << spec;
    EXPECT_EQ(rule.message().find('\n'), std::string::npos) << rule.message();
    EXPECT_NE(rule.message().find(std::string("'") + spec + "'"), std::string::npos) << rule.message();
  }
}

// The rules sort each coordinate's values with a sorting network (below 257 updates) or a
// sort: for every count, against a sort per coordinate done here, bit for bit — with ties,
// signed zeros, infinities' neighbours and a length that is not a multiple of the block.
TEST(RobustAggregation, MedianAndTrimmedMeanEqualASortPerCoordinateForEveryCount) {
  at::manual_seed(3);
  const int64_t d = 77;
  std::vector<int64_t> counts;
  for (int64_t n = 1; n <= 70; ++n) counts.push_back(n);
  for (int64_t n : {127, 128, 129, 255, 256, 257, 300}) counts.push_back(n);
  for (int64_t n : counts) {
    std::vector<ClientUpdate> u;
    for (int64_t c = 0; c < n; ++c) {
      auto v = (at::randn({d}) * 4).round() / 4;  // few distinct values: ties everywhere
      v[0] = c % 2 ? -0.0f : 0.0f;
      v[1] = c % 3 ? 3e38f : -3e38f;
      u.push_back({c, 1, v});
    }
    const int64_t cut = static_cast<int64_t>(std::floor(0.3 * static_cast<double>(n)));
    auto median = at::empty({d}), trimmed = at::empty({d});
    for (int64_t j = 0; j < d; ++j) {
      std::vector<float> column;
      for (const auto& x : u) column.push_back(x.delta[j].item<float>());
      std::sort(column.begin(), column.end());
      median[j] = n % 2 ? column[n / 2]
                        : static_cast<float>((static_cast<double>(column[n / 2 - 1]) + column[n / 2]) / 2);
      double s = 0;
      for (int64_t i = cut; i < n - cut; ++i) s += column[i];
      trimmed[j] = static_cast<float>(s / static_cast<double>(n - 2 * cut));
    }
    EXPECT_TRUE(run("median", u).equal(median)) << n;
    EXPECT_TRUE(run("trimmed:0.3", u).equal(trimmed)) << n;
  }
}

TEST(RobustAggregation, ResultsDoNotDependOnTheThreadCount) {
  at::manual_seed(5);
  std::vector<ClientUpdate> u;
  for (int c = 0; c < 11; ++c) u.push_back({c, 1 + c, at::randn({20000})});
  const int threads = at::get_num_threads();
  for (const char* spec : {"median", "trimmed:0.2", "multikrum:2", "cclip:5"}) {
    at::set_num_threads(1);
    const auto one = run(spec, u);
    at::set_num_threads(std::max(2, threads));
    EXPECT_TRUE(run(spec, u).equal(one)) << spec;
  }
  at::set_num_threads(threads);
}

}  // namespace
}  // namespace xfed::coordinator
