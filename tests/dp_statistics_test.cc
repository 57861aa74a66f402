// Central --dp's DI statistics rounds (coordinator/dp.h, pruning/private_stats.h): their own
// sampling stream, their place in the RDP budget, the bound one hostile client has on the
// release, and the noise's standard deviation.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "coordinator/dp.h"
#include "coordinator/rdp_accountant.h"
#include "pruning/class_stats.h"

namespace xfed::coordinator {
namespace {

PrivateAggregation make_dp(const std::string& text, int64_t clients, double fraction, double stats_fraction) {
  auto dp = PrivateAggregation::make(DpSpec::parse(text).value(), clients, fraction, stats_fraction);
  EXPECT_TRUE(dp) << dp.message();
  return std::move(dp).value();
}

// One client's evidence for taps of `units` (0: absent): `n` samples of activations
// `scale` times a seeded draw, classes round robin.
pruning::Evidence client_evidence(const std::vector<int64_t>& units, int64_t classes, int64_t n, double scale,
                                  uint64_t seed) {
  at::manual_seed(seed);
  pruning::Evidence e;
  for (int64_t m : units) {
    if (m == 0) {
      e.taps.emplace_back();
      continue;
    }
    auto s = pruning::ClassStats::zeros(m, classes);
    s.accumulate(at::rand({n, m}, at::kDouble) * scale, at::arange(n, at::kLong).remainder(classes));
    e.taps.emplace_back(std::move(s));
  }
  return e;
}

TEST(PrivateAggregation, StatisticsRoundsSampleFromTheirOwnStreamAndAreCountedInEpsilon) {
  auto dp = make_dp("clip=1,noise=1,stats_noise=2,seed=3", 1000, 0.1, 0.3);
  const auto asked = dp.sample_stats(4);
  EXPECT_NEAR(static_cast<double>(asked.size()), 300, 5 * std::sqrt(1000 * 0.3 * 0.7));
  EXPECT_NE(asked, dp.sample(4));
  EXPECT_EQ(asked, make_dp("clip=1,noise=1,stats_noise=2,seed=3", 1000, 0.1, 0.3).sample_stats(4));
  EXPECT_NEAR(dp.stats_noise_std(3), 2 * 3, 1e-12);  // Z_S·√(3T)
  const RdpAccountant train(0.1, 1, 1e-5), stats(0.3, 2, 1e-5);
  EXPECT_EQ(dp.spent(20, 0).epsilon, train.spent(20).epsilon);
  EXPECT_EQ(dp.spent(20, 3).epsilon, train.spent_with(20, stats, 3).epsilon);
  EXPECT_EQ(dp.stats_rounds(), 0);
  dp.private_evidence({}, {4}, 2, 1);
  EXPECT_EQ(dp.stats_rounds(), 1);
  // The budget's plan counts statistics rounds too.
  auto target = make_dp("clip=1,noise=1,target_epsilon=3,seed=1", 100, 0.1, 0.5);
  const auto every_fifth = [](int64_t r) { return r / 5; };
  const int64_t last = target.last_round_within_target(1000, every_fifth);
  EXPECT_LE(target.spent(last, every_fifth(last)).epsilon, 3);
  EXPECT_GT(target.spent(last + 1, every_fifth(last + 1)).epsilon, 3);
  EXPECT_LT(last, target.last_round_within_target(1000));
}

TEST(PrivateAggregation, AHostileClientMovesTheReleasedStatisticsByAtMostItsBound) {
  // Many honest clients (every class far above the noise): the counts and sums of the release
  // with and without one client, under the same secret and round, differ by that client's
  // bounded contribution: ‖Δcounts‖ ≤ 1, ‖Δsums‖ ≤ R·√M, however large what it sent.
  const std::vector<int64_t> units{6, 0, 9};
  const int64_t classes = 3;
  const double rms = 0.5;
  std::map<int64_t, pruning::Evidence> honest;
  for (int64_t c = 0; c < 200; ++c) honest[c] = client_evidence(units, classes, 30, 0.3, 100 + c);
  auto with = honest;
  with[500] = client_evidence(units, classes, 30, 1e6, 7);
  with[500].taps[0]->counts *= 1000;  // it claims a thousand times its samples too
  const std::string spec = "clip=1,noise=1,stats_noise=1,stats_clip=0.5,seed=9";
  auto a = make_dp(spec, 1000, 0.2, 0.2), b = make_dp(spec, 1000, 0.2, 0.2);
  const auto without_it = a.private_evidence(honest, units, classes, 6);
  const auto with_it = b.private_evidence(with, units, classes, 6);
  for (size_t t : {0, 2}) {
    const double clip = rms * std::sqrt(static_cast<double>(units[t]));
    const auto& x = *without_it.taps[t];
    const auto& y = *with_it.taps[t];
    EXPECT_GT(x.counts.min().item<double>(), 30);  // ~67 a class, noise std 3: none left out
    EXPECT_LE((y.counts - x.counts).norm().item<double>(), 1 + 1e-9) << t;
    EXPECT_GT((y.counts - x.counts).norm().item<double>(), 0.1) << t;
    EXPECT_LE((y.sums - x.sums).norm().item<double>(), clip * (1 + 1e-9)) << t;
  }
  EXPECT_FALSE(with_it.taps[1].has_value());
  // Another round draws other noise; the same round the same.
  EXPECT_FALSE(at::equal(a.private_evidence(honest, units, classes, 7).taps[0]->sums, without_it.taps[0]->sums));
  EXPECT_TRUE(at::equal(b.private_evidence(honest, units, classes, 6).taps[0]->sums, without_it.taps[0]->sums));
}

TEST(PrivateAggregation, StatisticsNoiseHasTheStatedStd) {
  // No client: the release is the noise alone, std Z_S·√(3T) per count, ·R√M per sum.
  const std::vector<int64_t> units{50};
  auto dp = make_dp("clip=1,noise=1,stats_noise=0.5,stats_clip=2,seed=4", 100, 0.5, 0.5);
  const auto e = dp.private_evidence({}, units, 400, 1);
  const double sigma = 0.5 * std::sqrt(3.0), clip = 2 * std::sqrt(50.0);
  // make_usable left out the classes whose noise fell under σ, and their sums; the others' sums are noise.
  const auto present = e.taps[0]->counts.gt(0);
  const auto sums = e.taps[0]->sums.index({at::indexing::Slice(), present}).flatten();
  ASSERT_GT(sums.numel(), 1000);  // ~16 % of 400 classes × 50 units
  const double n = static_cast<double>(sums.numel());
  EXPECT_NEAR(sums.std().item<double>(), sigma * clip, 5 * sigma * clip / std::sqrt(2 * n));
}

}  // namespace
}  // namespace xfed::coordinator
