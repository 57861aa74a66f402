#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "coordinator/aggregator.h"
#include "coordinator/sampler.h"
#include "coordinator/server_optimizer.h"
#include "coordinator/strategy.h"

namespace xfed::coordinator {
namespace {

at::Tensor vec(std::vector<float> v) { return at::tensor(v, at::kFloat); }

TEST(WeightedMean, MatchesHandComputedMean) {
  std::vector<ClientUpdate> u{{2, 1, vec({3, 0, -1})}, {0, 3, vec({1, 2, 3})}};
  // (3*[1,2,3] + 1*[3,0,-1]) / 4 = [1.5, 1.5, 2]
  const auto mean = weighted_mean(u);
  EXPECT_TRUE(mean.allclose(vec({1.5f, 1.5f, 2.0f})));
  EXPECT_EQ(u.front().client, 0) << "sorted by client id";
}

TEST(WeightedMean, ArrivalOrderDoesNotChangeASingleBit) {
  std::mt19937 rng(3);
  std::vector<ClientUpdate> updates;
  for (int c = 0; c < 12; ++c) updates.push_back({c, 10 + c * 7, at::randn({1000})});
  auto reference = updates;
  const auto expected = weighted_mean(reference);
  for (int trial = 0; trial < 5; ++trial) {
    auto shuffled = updates;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_TRUE(weighted_mean(shuffled).equal(expected));
  }
}

// The aggregator registry: the built-in mean is a registration like a user's; names are
// unique and well-formed; an unknown name lists the registered ones; a user rule is found.
TEST(AggregatorRegistry, TheBuiltInMeanIsTheWeightedMeanAndTakesNoArgument) {
  auto mean = make_aggregator("mean");
  ASSERT_TRUE(mean.is_ok()) << mean.message();
  std::vector<ClientUpdate> u{{0, 3, vec({1, 2, 3})}, {2, 1, vec({3, 0, -1})}};
  EXPECT_TRUE(mean.value()(u).value().equal(weighted_mean(u)));
  const auto with_arg = make_aggregator("mean:2");
  ASSERT_FALSE(with_arg.is_ok());
  EXPECT_EQ(with_arg.code(), StatusCode::kUsage);
  EXPECT_NE(with_arg.message().find("takes no argument"), std::string::npos) << with_arg.message();
}

TEST(AggregatorRegistry, NamesAreUniqueAndWellFormedAndUnknownOnesListTheRegistered) {
  const AggregatorFactory first = [](const std::optional<std::string>& arg) -> Result<Aggregator> {
    const double scale = arg ? std::stod(*arg) : 1.0;
    return Aggregator([scale](const std::vector<ClientUpdate>& u) { return u.front().delta * scale; });
  };
  ASSERT_TRUE(register_aggregator("first-client", first));
  const auto again = register_aggregator("first-client", first);
  EXPECT_EQ(again.code(), StatusCode::kUsage);
  EXPECT_NE(again.message().find("the name is taken"), std::string::npos) << again.message();
  EXPECT_EQ(register_aggregator("mean", first).code(), StatusCode::kUsage) << "a built-in's name is taken too";
  for (const char* bad : {"", "Upper", "9lives", "has space", "colon:in"})
    EXPECT_EQ(register_aggregator(bad, first).code(), StatusCode::kUsage) << "'" << bad << "'";
  EXPECT_EQ(register_aggregator("no-factory", nullptr).code(), StatusCode::kUsage);

  std::vector<ClientUpdate> u{{1, 5, vec({2, 4})}, {3, 1, vec({0, 0})}};
  auto scaled = make_aggregator("first-client:0.5");
  ASSERT_TRUE(scaled.is_ok()) << scaled.message();
  EXPECT_TRUE(scaled.value()(u).value().equal(vec({1, 2})));
  const auto unknown = make_aggregator("bulyan:1");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.message(), "--aggregate 'bulyan': no aggregator of that name (registered: cclip, first-client, "
                               "krum, mean, median, multikrum, trimmed)");
  EXPECT_EQ(added_aggregator_names(), std::vector<std::string>{"first-client"}) << "the robust rules are built in";
}

at::Tensor step_once(std::shared_ptr<const ServerRule> rule, double lr, at::Tensor w, const at::Tensor& d,
                     int64_t params) {
  ServerOptimizer opt(std::move(rule), lr, params);
  opt.step(w, d);
  return w;
}

TEST(ServerOptimizer, FedAvgAddsScaledMean) {
  auto w = step_once(fedavg_rule(), 0.5, vec({1, 1}), vec({2, -4}), 2);
  EXPECT_TRUE(w.allclose(vec({2, -1})));
}

TEST(ServerOptimizer, FedAvgMAccumulatesMomentum) {
  ServerOptimizer opt(fedavgm_rule(0.9), 1.0, 1);
  auto w = vec({0});
  opt.step(w, vec({1}));  // v = 1, w = 1
  opt.step(w, vec({1}));  // v = 1.9, w = 2.9
  EXPECT_NEAR(w.item<float>(), 2.9f, 1e-6);
}

TEST(ServerOptimizer, FedAdamFirstStepClosedForm) {
  // m = 0.1 d; v = 0.99 tau^2 + 0.01 d^2; w += lr * m / (sqrt(v) + tau)
  const double d = 0.5, tau = 1e-3, lr = 0.01;
  const double m = 0.1 * d, v = 0.99 * tau * tau + 0.01 * d * d;
  auto w = step_once(fedadam_rule(), lr, vec({1}), vec({float(d)}), 1);
  EXPECT_NEAR(w.item<float>(), 1 + lr * m / (std::sqrt(v) + tau), 1e-6);
}

TEST(ServerOptimizer, FedYogiFirstStepClosedForm) {
  // v = tau^2 - 0.01 d^2 sign(tau^2 - d^2) = tau^2 + 0.01 d^2 for |d| > tau
  const double d = -0.2, tau = 1e-3, lr = 0.01;
  const double m = 0.1 * d, v = tau * tau + 0.01 * d * d;
  auto w = step_once(fedyogi_rule(), lr, vec({0}), vec({float(d)}), 1);
  EXPECT_NEAR(w.item<float>(), lr * m / (std::sqrt(v) + tau), 1e-6);
}

TEST(ServerOptimizer, BuffersAreAveragedNotOptimized) {
  // params [0, 2), buffers [2, 3): adam moves params but buffers get w += d exactly.
  auto w = step_once(fedadam_rule(), 0.01, vec({0, 0, 5}), vec({1, 1, 0.25}), 2);
  EXPECT_FLOAT_EQ(w[2].item<float>(), 5.25f);
  EXPECT_NE(w[0].item<float>(), 1.0f);
}

TEST(ServerOptimizer, StateRoundTrips) {
  ServerOptimizer a(fedadam_rule(), 0.01, 3), b(fedadam_rule(), 0.01, 3);
  auto wa = vec({0, 0, 0}), wb = vec({0, 0, 0});
  a.step(wa, vec({1, 2, 3}));
  ASSERT_TRUE(b.load_state(a.state()));
  wb.copy_(wa);
  a.step(wa, vec({-1, 0, 1}));
  b.step(wb, vec({-1, 0, 1}));
  EXPECT_TRUE(wa.equal(wb));
  EXPECT_FALSE(b.load_state({at::zeros({2}), at::zeros({2})})) << "the wrong size";
  EXPECT_FALSE(b.load_state({at::zeros({3})})) << "the wrong count";
  ServerOptimizer plain(fedavg_rule(), 1.0, 3);
  EXPECT_TRUE(plain.state().empty());
  EXPECT_FALSE(plain.load_state(a.state())) << "fedavg keeps no state";
}

// A program's own server rule: sign descent, w += lr * sign(d), registered as a strategy.
class SignStep final : public ServerRule {
 public:
  void step(at::Tensor& w, const at::Tensor& d, double lr, std::vector<at::Tensor>&) const override {
    w.add_(at::sign(d), lr);
  }
};

TEST(Strategy, AProgramsStrategyIsFoundAndItsRuleSteps) {
  const auto added = register_strategy(
      "signstep", [](const std::optional<std::string>& arg, std::optional<double> lr) -> Result<Strategy> {
        if (arg) return Status::usage("signstep takes no argument");
        return Strategy{"signstep", 0.0, std::make_shared<SignStep>(), lr.value_or(0.5)};
      });
  ASSERT_TRUE(added) << added.message();
  EXPECT_FALSE(register_strategy("signstep", nullptr)) << "taken";
  EXPECT_FALSE(register_strategy("fedavg", [](auto, auto) -> Result<Strategy> { return Strategy{}; })) << "built in";
  const auto s = parse_strategy("signstep").value();
  EXPECT_DOUBLE_EQ(s.server_lr, 0.5);
  auto w = step_once(s.server, s.server_lr, vec({1, 1, 1}), vec({-3, 0.25, 2}), 2);
  EXPECT_TRUE(w.equal(vec({0.5, 1.5, 3}))) << "sign step on the parameters, the buffer averaged";
  EXPECT_DOUBLE_EQ(parse_strategy("signstep", 0.1).value().server_lr, 0.1);
  const auto unknown = parse_strategy("fedsgd");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.message(),
            "--strategy 'fedsgd': no strategy of that name (registered: fedadam, fedavg, fedavgm, fedprox, fedyogi, "
            "signstep)");
  EXPECT_EQ(added_strategy_names(), std::vector<std::string>{"signstep"});
}

TEST(Strategy, ParsesEveryForm) {
  EXPECT_DOUBLE_EQ(parse_strategy("fedavg").value().server_lr, 1.0);
  EXPECT_DOUBLE_EQ(parse_strategy("fedprox:0.01").value().prox_mu, 0.01);
  EXPECT_EQ(parse_strategy("fedprox:0.01").value().name, "fedprox:0.01");
  EXPECT_EQ(parse_strategy("fedavgm").value().server->state_count(), 2u);
  EXPECT_DOUBLE_EQ(parse_strategy("fedadam").value().server_lr, 0.01);
  EXPECT_DOUBLE_EQ(parse_strategy("fedyogi", 0.5).value().server_lr, 0.5);
  for (const char* bad : {"fedprox", "fedprox:x", "fedprox:-1", "fedsgd", "fedavg:1"}) {
    auto s = parse_strategy(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_NE(s.message().find("--strategy"), std::string::npos);
  }
}

TEST(Sampler, SamplesDeterministicallyWithoutReplacement) {
  const auto a = sample_clients(1000, 0.01, 7, 3);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::adjacent_find(a.begin(), a.end()), a.end());
  EXPECT_EQ(a, sample_clients(1000, 0.01, 7, 3));
  EXPECT_NE(a, sample_clients(1000, 0.01, 7, 4));
  EXPECT_EQ(sample_clients(10, 1.0, 1, 1), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(sample_clients(10, 0.001, 1, 1).size(), 1u);
}

TEST(Sampler, EveryClientIsEventuallySampled) {
  std::vector<int> seen(50, 0);
  for (int r = 1; r <= 200; ++r)
    for (auto c : sample_clients(50, 0.1, 1, r)) ++seen[c];
  for (int c = 0; c < 50; ++c) EXPECT_GT(seen[c], 0) << c;
}

TEST(Placement, BalancedIsLongestFirst) {
  // sizes 10, 1, 1, 8 on 2 workers: 10 -> w1, 8 -> w2, 1 -> w2, 1 -> w2 (loads 10/10)
  const auto ranks = place_clients({0, 1, 2, 3}, {10, 1, 1, 8}, 2);
  EXPECT_EQ(ranks, (std::vector<int>{1, 2, 2, 2}));
}

// Every client gets one rank; equal clients spread within one of each other; the map
// follows the seed and is the same on every call.
TEST(Placement, HomeRanksAreBalancedAndSeeded) {
  for (int workers : {1, 2, 3, 4, 7}) {
    const auto home = home_ranks(10, {}, workers, 5);
    ASSERT_EQ(home.size(), 10u);
    std::vector<int> load(workers + 1, 0);
    for (int r : home) {
      ASSERT_GE(r, 1);
      ASSERT_LE(r, workers);
      ++load[r];
    }
    for (int r = 1; r <= workers; ++r) EXPECT_EQ(load[r], 10 / workers + (r <= 10 % workers ? 1 : 0)) << workers;
    EXPECT_EQ(home, home_ranks(10, {}, workers, 5));
  }
  EXPECT_NE(home_ranks(40, {}, 4, 1), home_ranks(40, {}, 4, 2));
  // by data: one client of 30 samples against three of 10 on 2 ranks -> 30 alone, loads 30/30
  const auto by_size = home_ranks(4, {30, 10, 10, 10}, 2, 9);
  EXPECT_EQ(std::count(by_size.begin(), by_size.end(), by_size[0]), 1);
}

}  // namespace
}  // namespace xfed::coordinator
