// coordinator/rdp_accountant.h and coordinator/dp.h: the accountant against published values
// (Google's dp_accounting tests) and against the defining integral computed here; the DP
// mechanism's clipping, noise, sampling and spec.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <numeric>
#include <vector>

#include "coordinator/dp.h"
#include "coordinator/rdp_accountant.h"
#include "core/privacy_noise.h"

namespace xfed::coordinator {
namespace {

// A_α by Simpson's rule over the density: E_{x~N(0,z²)}[((1-q) + q e^{(2x-1)/(2z²)})^α].
double log_a_by_integral(double q, double z, double alpha) {
  const double lo = -40 * z, hi = alpha + 40 * z;
  const int n = 400000;
  const double h = (hi - lo) / n;
  std::vector<double> log_f(n + 1);  // in logs: the integrand overflows a double for large α
  for (int i = 0; i <= n; ++i) {
    const double x = lo + i * h;
    const double log_density = -x * x / (2 * z * z) - std::log(z * std::sqrt(2 * M_PI));
    const double e = (2 * x - 1) / (2 * z * z);
    // log((1-q) + q e^e), stable for large e
    const double log_mix = e > 0 ? e + std::log(q + (1 - q) * std::exp(-e)) : std::log((1 - q) + q * std::exp(e));
    log_f[i] = log_density + alpha * log_mix;
  }
  const double top = *std::max_element(log_f.begin(), log_f.end());
  long double sum = 0;
  for (int i = 0; i <= n; ++i)
    sum += (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2)) * static_cast<long double>(std::exp(log_f[i] - top));
  return top + std::log(static_cast<double>(sum * h / 3));
}

TEST(RdpAccountant, SampledGaussianMatchesThePublishedValues) {
  // TF Privacy's rdp_accountant_test (test_compute_rdp_sequence): q 0.01, z 2.5, 50 rounds,
  // five significant digits. (Google's later dp_accounting computes fractional orders another
  // way and prints 6.70579741e-04 at 1.5 and 1.08548710e-03 at 2.5, slightly above; ours equal
  // the defining integral there, see the next test.)
  const std::vector<double> orders = {1.5, 2.5, 5, 50, 100};
  const std::vector<double> expected = {6.5007e-04, 1.0854e-03, 2.1808e-03, 2.3846e-02, 1.6742e+02};
  for (size_t k = 0; k < orders.size(); ++k)
    EXPECT_NEAR(50 * sampled_gaussian_rdp(0.01, 2.5, orders[k]), expected[k], 1e-4 * expected[k]) << orders[k];
  // dp_accounting's values at the whole orders, to nine digits.
  const std::vector<double> whole = {5, 50, 100};
  const std::vector<double> precise = {2.18075656e-03, 2.38460375e-02, 1.67416308e02};
  for (size_t k = 0; k < whole.size(); ++k)
    EXPECT_NEAR(50 * sampled_gaussian_rdp(0.01, 2.5, whole[k]), precise[k], 1e-8 * precise[k]) << whole[k];
}

TEST(RdpAccountant, SampledGaussianEqualsItsDefiningIntegral) {
  for (double q : {0.001, 0.01, 0.05, 0.3, 0.9})
    for (double z : {0.7, 1.0, 2.0, 2.5})
      for (double alpha : {1.5, 2.0, 2.5, 3.7, 8.0, 12.5}) {
        const double by_integral = log_a_by_integral(q, z, alpha) / (alpha - 1);
        EXPECT_NEAR(sampled_gaussian_rdp(q, z, alpha), by_integral, 1e-6 + 1e-5 * std::abs(by_integral))
            << "q " << q << " z " << z << " order " << alpha;
      }
}

TEST(RdpAccountant, WholeAndFractionalOrdersMeet) {
  for (double a : {2.0, 5.0, 20.0}) {
    const double at = sampled_gaussian_rdp(0.1, 1.2, a);
    EXPECT_NEAR(sampled_gaussian_rdp(0.1, 1.2, a - 1e-7), at, 1e-5 * at);
    EXPECT_NEAR(sampled_gaussian_rdp(0.1, 1.2, a + 1e-7), at, 1e-5 * at);
  }
}

TEST(RdpAccountant, EpsilonOfRdpIsTheImprovedConversion) {
  // dp_accounting's test_compute_epsilon_delta_pure_dp: RDP 1.1 at orders 2..32, delta 1e-5.
  std::vector<double> orders(31);
  std::iota(orders.begin(), orders.end(), 2.0);
  const auto spent = epsilon_of_rdp(orders, std::vector<double>(31, 1.1), 1e-5);
  EXPECT_NEAR(spent.epsilon, 1.32783806176, 1e-9);
  EXPECT_EQ(spent.order, 32);
  // test_compute_epsilon_delta_gaussian: q = 1, z = 4.530877117 is exactly (1, 1e-6)-DP.
  std::vector<double> fine;
  for (int i = 1001; i < 100000; ++i) fine.push_back(0.001 * i);
  std::vector<double> rdp;
  for (double a : fine) rdp.push_back(sampled_gaussian_rdp(1, 4.530877117, a));
  EXPECT_NEAR(epsilon_of_rdp(fine, rdp, 1e-6).epsilon, 1.0, 1e-6);
}

TEST(RdpAccountant, WithoutSamplingRoundsComposeInClosedForm) {
  // q = 1: T rounds are a Gaussian of RDP T·α/(2z²); ε = min over orders of the conversion.
  const double z = 3, delta = 1e-5;
  const RdpAccountant accountant(1, z, delta);
  for (int64_t t : {1, 10, 100}) {
    double best = INFINITY;
    for (double a : default_rdp_orders())
      if (a > 1.01) best = std::min(best, t * a / (2 * z * z) + std::log1p(-1 / a) - std::log(delta * a) / (a - 1));
    EXPECT_NEAR(accountant.spent(t).epsilon, best, 1e-12) << t;
  }
}

TEST(RdpAccountant, TwoMechanismsComposeByAddingTheirRdp) {
  // q = 1: a rounds of noise z1 and b of z2 are a Gaussian of RDP α(a/z1² + b/z2²)/2.
  const double z1 = 2, z2 = 5, delta = 1e-5;
  const RdpAccountant first(1, z1, delta), second(1, z2, delta);
  for (auto [a, b] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {10, 3}, {0, 4}, {7, 0}}) {
    double best = INFINITY;
    for (double o : default_rdp_orders())
      best = std::min(best, o * (a / (z1 * z1) + b / (z2 * z2)) / 2 + std::log1p(-1 / o) - std::log(delta * o) / (o - 1));
    EXPECT_NEAR(first.spent_with(a, second, b).epsilon, best, 1e-12) << a << " " << b;
  }
  // Sampled: the order-by-order sum, whatever the mechanisms.
  const RdpAccountant train(0.1, 1, delta), stats(0.3, 2, delta);
  EXPECT_GT(train.spent_with(40, stats, 5).epsilon, train.spent(40).epsilon);
  EXPECT_LT(train.spent_with(40, stats, 5).epsilon, train.spent(40).epsilon + stats.spent(5).epsilon);
  EXPECT_EQ(train.spent_with(40, stats, 0).epsilon, train.spent(40).epsilon);
}

TEST(RdpAccountant, EpsilonGrowsWithRoundsAndShrinksWithNoiseAndSampling) {
  EXPECT_EQ(RdpAccountant(0.1, 1, 1e-5).spent(0).epsilon, 0);
  EXPECT_EQ(RdpAccountant(0, 1, 1e-5).spent(100).epsilon, 0);
  double previous = 0;
  const RdpAccountant accountant(0.01, 1.1, 1e-5);
  for (int64_t t : {1, 2, 5, 10, 100, 1000, 10000}) {
    const double eps = accountant.spent(t).epsilon;
    EXPECT_GT(eps, previous) << t;
    previous = eps;
  }
  EXPECT_LT(RdpAccountant(0.01, 2, 1e-5).spent(100).epsilon, RdpAccountant(0.01, 1, 1e-5).spent(100).epsilon);
  EXPECT_LT(RdpAccountant(0.01, 1, 1e-5).spent(100).epsilon, RdpAccountant(0.1, 1, 1e-5).spent(100).epsilon);
  EXPECT_LT(RdpAccountant(0.01, 1, 1e-3).spent(100).epsilon, RdpAccountant(0.01, 1, 1e-5).spent(100).epsilon);
}

TEST(DpSpec, ParsesAndRefusesBadSpecs) {
  auto spec = DpSpec::parse("clip=0.5,noise=1.1,adaptive=0.5,delta=1e-6,target_epsilon=8,seed=3");
  ASSERT_TRUE(spec) << spec.message();
  EXPECT_EQ(spec.value().clip, 0.5);
  EXPECT_EQ(spec.value().noise, 1.1);
  EXPECT_EQ(*spec.value().adaptive, 0.5);
  EXPECT_EQ(spec.value().delta, 1e-6);
  EXPECT_EQ(*spec.value().target_epsilon, 8);
  EXPECT_EQ(*spec.value().seed, 3u);
  EXPECT_EQ(spec.value().identity(), "clip=0.5,noise=1.1,adaptive=0.5,delta=1e-06,target_epsilon=8");
  EXPECT_EQ(DpSpec::parse("noise=1,clip=2").value().delta, 1e-5);
  EXPECT_FALSE(DpSpec::parse("noise=1,clip=2").value().local);
  EXPECT_FALSE(DpSpec::parse("noise=1,clip=2,mode=central").value().local);
  const auto stats = DpSpec::parse("noise=1,clip=2,stats_noise=3,stats_clip=0.5").value();
  EXPECT_EQ(stats.stats_noise_multiplier(), 3);
  EXPECT_EQ(stats.stats_clip, 0.5);
  EXPECT_EQ(stats.identity(), "clip=2,noise=1,delta=1e-05,stats_noise=3,stats_clip=0.5");
  EXPECT_EQ(DpSpec::parse("noise=1.5,clip=2").value().stats_noise_multiplier(), 1.5);
  const auto local = DpSpec::parse("noise=1,clip=2,mode=local,seed=4").value();
  EXPECT_TRUE(local.local);
  EXPECT_EQ(local.identity(), "clip=2,noise=1,mode=local,delta=1e-05");
  for (const char* bad : {"", "clip=1", "noise=1", "clip=-1,noise=1", "clip=0,noise=1", "clip=1,noise=nan",
                          "clip=1,noise=inf", "clip=1,noise=0", "clip=1,noise=1,delta=1", "clip=1,noise=1,delta=0",
                          "clip=1,noise=1,adaptive=1", "clip=1,noise=1,target_epsilon=0", "clip=1,noise=1,seed=-1",
                          "clip=1,noise=1,seed=1.5", "clip=1,noise=1,clip=2", "clip=1,noise=1,sigma=2",
                          "clip=1,noise=1,", "clip=4294967296e6,noise=1", "clip=1,noise=1,mode=global",
                          "clip=1,noise=1,mode=local,adaptive=0.5", "clip=1,noise=1,stats_noise=0",
                          "clip=1,noise=1,stats_clip=-1", "clip=1,noise=1,stats_clip=nan",
                          "clip=1,noise=1,mode=local,stats_clip=2"}) {
    auto r = DpSpec::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.code(), StatusCode::kUsage) << bad;
      EXPECT_NE(r.message().find("--dp"), std::string::npos) << r.message();
    }
  }
}

PrivateAggregation make_dp(const std::string& text, int64_t clients, double fraction) {
  auto dp = PrivateAggregation::make(DpSpec::parse(text).value(), clients, fraction);
  EXPECT_TRUE(dp) << dp.message();
  return std::move(dp).value();
}

ClientUpdate update(int64_t client, std::vector<float> values) {
  return {client, 1, at::tensor(values, at::kFloat)};
}

TEST(PrivateAggregation, ClipsEachUpdateToCAndDividesByTheExpectedCount) {
  // noise tiny: the mean of clipped updates over q·N = 4 expected clients.
  auto dp = make_dp("clip=1,noise=1e-9,seed=1", 8, 0.5);
  const auto out = dp.aggregate({update(0, {3, 4}), update(5, {0.3f, 0.4f})}, 2, 1);
  // (3,4) has norm 5 -> (0.6, 0.8); (0.3, 0.4) is within C.
  EXPECT_NEAR(out[0].item<float>(), (0.6 + 0.3) / 4, 1e-6);
  EXPECT_NEAR(out[1].item<float>(), (0.8 + 0.4) / 4, 1e-6);
}

TEST(PrivateAggregation, NoiseHasStandardDeviationZCOverTheExpectedCount) {
  auto dp = make_dp("clip=2,noise=1.5,seed=7", 10, 1.0);
  const int64_t n = 200000;
  const auto out = dp.aggregate({}, n, 3);  // no update: the noise alone
  const double expected_std = 1.5 * 2 / 10;
  const double mean = out.to(at::kDouble).mean().item<double>();
  const double std = out.to(at::kDouble).std().item<double>();
  // The sample std of n normals is within 5 of its standard errors (std / sqrt(2n)).
  EXPECT_NEAR(std, expected_std, 5 * expected_std / std::sqrt(2.0 * n));
  EXPECT_NEAR(mean, 0, 5 * expected_std / std::sqrt(double(n)));
  // Fourth moment of a normal: 3 std^4 (Box-Muller pairs are normal, not merely unit variance).
  const double kurtosis = (out.to(at::kDouble) - mean).pow(4).mean().item<double>() / std::pow(std, 4);
  EXPECT_NEAR(kurtosis, 3, 0.1);
}

TEST(PrivateAggregation, TheSameSecretGivesTheSameRoundAndAnotherRoundOtherNoise) {
  auto a = make_dp("clip=1,noise=1,seed=11", 4, 1.0), b = make_dp("clip=1,noise=1,seed=11", 4, 1.0);
  auto c = make_dp("clip=1,noise=1,seed=12", 4, 1.0);
  const auto u = std::vector<ClientUpdate>{update(1, {0.1f, 0.2f, 0.3f})};
  EXPECT_TRUE(at::equal(a.aggregate(u, 3, 5), b.aggregate(u, 3, 5)));
  EXPECT_FALSE(at::equal(a.aggregate(u, 3, 6), b.aggregate(u, 3, 5)));
  EXPECT_FALSE(at::equal(c.aggregate(u, 3, 5), b.aggregate(u, 3, 5)));
  auto random1 = make_dp("clip=1,noise=1", 4, 1.0), random2 = make_dp("clip=1,noise=1", 4, 1.0);
  EXPECT_FALSE(at::equal(random1.aggregate(u, 3, 5), random2.aggregate(u, 3, 5)));  // secrets from the OS
}

TEST(PrivateAggregation, PoissonSamplingIncludesEachClientWithProbabilityQ) {
  auto dp = make_dp("clip=1,noise=1,seed=5", 1000, 0.1);
  int64_t total = 0;
  std::vector<int64_t> per_client(1000, 0);
  const int rounds = 200;
  for (int r = 1; r <= rounds; ++r) {
    const auto s = dp.sample(r);
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    total += static_cast<int64_t>(s.size());
    for (auto c : s) ++per_client[c];
  }
  // Binomial(200000, 0.1): mean 20000, std 134.
  EXPECT_NEAR(static_cast<double>(total), 20000, 5 * 134);
  EXPECT_EQ(dp.sample(3), dp.sample(3));
  EXPECT_NE(dp.sample(3), dp.sample(4));
  EXPECT_EQ(make_dp("clip=1,noise=1,seed=5", 7, 1.0).sample(9), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(PrivateAggregation, AdaptiveClippingMovesCTowardTheQuantile) {
  // Every update far above C: the count is ~0 and C grows by e^{0.2 * 0.5} per round;
  // every update far below: C shrinks by e^{-0.2 * 0.5}. Count noise std = 100/20 = 5 on 100.
  auto up = make_dp("clip=1,noise=1,adaptive=0.5,seed=2", 100, 1.0);
  auto down = make_dp("clip=1,noise=1,adaptive=0.5,seed=2", 100, 1.0);
  std::vector<ClientUpdate> big, small;
  for (int c = 0; c < 100; ++c) {
    big.push_back(update(c, {100, 0}));
    small.push_back(update(c, {1e-3f, 0}));
  }
  for (int r = 1; r <= 5; ++r) {
    up.aggregate(big, 2, r);
    down.aggregate(small, 2, r);
  }
  // 5 rounds of exp(±0.2 (b - 0.5)) with |noise in b| <~ 0.25 (5 std / 100 each): bounds.
  EXPECT_GT(up.clip(), std::exp(5 * 0.2 * 0.25));
  EXPECT_LT(up.clip(), std::exp(5 * 0.2 * 0.75));
  EXPECT_LT(down.clip(), std::exp(-5 * 0.2 * 0.25));
  EXPECT_GT(down.clip(), std::exp(-5 * 0.2 * 0.75));
  // The update noise pays for the count's: Z_Δ = (Z^-2 - (2 σ_b)^-2)^-1/2, σ_b = 5.
  EXPECT_NEAR(up.update_noise_multiplier(), 1 / std::sqrt(1 - 1.0 / 100), 1e-12);
}

TEST(PrivateAggregation, RefusesWhatCannotWork) {
  // adaptive with 10 expected clients: σ_b = 0.5 is not above Z/2 = 1.
  auto adaptive = PrivateAggregation::make(DpSpec::parse("clip=1,noise=2,adaptive=0.5").value(), 10, 1.0);
  ASSERT_FALSE(adaptive);
  EXPECT_EQ(adaptive.code(), StatusCode::kUsage);
  // One round of q = 1, z = 0.5 spends more than epsilon 1.
  auto target = PrivateAggregation::make(DpSpec::parse("clip=1,noise=0.5,target_epsilon=1").value(), 10, 1.0);
  ASSERT_FALSE(target);
  EXPECT_NE(target.message().find("one round alone"), std::string::npos) << target.message();
}

TEST(PrivateAggregation, TheLastRoundWithinTheTargetIsTheLastWhoseEpsilonFits) {
  auto dp = make_dp("clip=1,noise=1,target_epsilon=3,seed=1", 100, 0.1);
  const int64_t last = dp.last_round_within_target(1000);
  EXPECT_LE(dp.spent(last).epsilon, 3);
  EXPECT_GT(dp.spent(last + 1).epsilon, 3);
  EXPECT_EQ(dp.last_round_within_target(2), 2);
  EXPECT_EQ(make_dp("clip=1,noise=1,seed=1", 100, 0.1).last_round_within_target(77), 77);
}

TEST(PrivateAggregation, SavedStateRestoresTheSecretAndTheClip) {
  auto a = make_dp("clip=1,noise=1,adaptive=0.5", 100, 1.0);
  std::vector<ClientUpdate> big;
  for (int c = 0; c < 100; ++c) big.push_back(update(c, {100, 0}));
  a.aggregate(big, 2, 1);
  Bytes saved;
  ByteWriter w(&saved);
  a.save(w);
  auto b = make_dp("clip=1,noise=1,adaptive=0.5", 100, 1.0);  // another secret
  ByteReader r(saved);
  ASSERT_TRUE(b.restore(r));
  EXPECT_EQ(b.clip(), a.clip());
  EXPECT_EQ(b.sample(2), a.sample(2));
  EXPECT_TRUE(at::equal(a.aggregate(big, 2, 2), b.aggregate(big, 2, 2)));
  Bytes truncated(saved.begin(), saved.end() - 1);
  ByteReader t(truncated);
  EXPECT_FALSE(b.restore(t));
}

TEST(LocalAccounting, EachClientSpendsTheGaussianOfSensitivity2CForEachRoundItWasSampledIn) {
  auto made = LocalAccounting::make(DpSpec::parse("clip=1,noise=4,delta=1e-6,target_epsilon=20").value(), 5);
  ASSERT_TRUE(made) << made.message();
  auto local = std::move(made).value();
  const RdpAccountant per_client(1, 2, 1e-6);  // noise std 4C over sensitivity 2C
  EXPECT_EQ(local.spent().epsilon, 0);
  local.count({0, 1});
  local.count({1, 3});
  EXPECT_DOUBLE_EQ(local.spent().epsilon, per_client.spent(2).epsilon) << "client 1 took part twice";
  local.count({0, 4});
  EXPECT_DOUBLE_EQ(local.spent().epsilon, per_client.spent(2).epsilon) << "clients 0 and 1: twice each";
  // q = 1, z = 2: RDP 2kα/Z² = kα/8 per client; the q = 1 closed form over the default orders.
  double best = INFINITY;
  for (double a : default_rdp_orders())
    if (a > 1.01) best = std::min(best, 2 * a / 8 + std::log1p(-1 / a) - std::log(1e-6 * a) / (a - 1));
  EXPECT_NEAR(local.spent().epsilon, best, 1e-12);
  int64_t rounds = 3;
  while (!local.would_exceed_target({1})) {
    local.count({1});
    ++rounds;
  }
  EXPECT_LE(local.spent().epsilon, 20);
  EXPECT_GT(per_client.spent(rounds).epsilon, 20) << "one more round of client 1 would pass the target";
  EXPECT_FALSE(local.would_exceed_target({2})) << "client 2 has spent nothing";
  EXPECT_FALSE(LocalAccounting::make(DpSpec::parse("clip=1,noise=0.1,target_epsilon=1").value(), 5));
}

TEST(LocalPrivacy, AClientClipsItsUpdateAndAddsNoiseOfStdZC) {
  const LocalPrivacy p{0.5, 2.0, secret_of_seed(3)};
  const int64_t n = 100000;
  auto big = at::full({n}, 1.0f);  // norm sqrt(n): scaled to 0.5
  const auto out = privatize_update(big, p, 7, 9).to(at::kDouble);
  const double scaled = 0.5 / std::sqrt(double(n));
  const double mean = out.mean().item<double>(), std = out.std().item<double>();
  EXPECT_NEAR(mean, scaled, 5 * 1.0 / std::sqrt(double(n)));
  EXPECT_NEAR(std, 1.0, 5 * 1.0 / std::sqrt(2.0 * n)) << "std = Z C = 1";
  EXPECT_TRUE(at::equal(privatize_update(big, p, 7, 9), privatize_update(big, p, 7, 9)));
  EXPECT_FALSE(at::equal(privatize_update(big, p, 7, 9), privatize_update(big, p, 7, 10))) << "per client";
  EXPECT_FALSE(at::equal(privatize_update(big, p, 7, 9), privatize_update(big, p, 8, 9))) << "per round";
  // Within C: unscaled; noise alone is what differs from the input.
  const LocalPrivacy quiet{10.0, 1e-9, secret_of_seed(3)};
  const auto small = at::tensor({0.3f, -0.4f});
  EXPECT_TRUE(at::allclose(privatize_update(small, quiet, 1, 1), small, 0, 1e-6));
}

}  // namespace
}  // namespace xfed::coordinator
