// The attack bench's hostile clients: their choice, the spec, and each model-poisoning kind
// against its closed form on hand-made updates.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "coordinator/attack.h"

namespace xfed::coordinator {
namespace {

at::Tensor vec(std::vector<float> v) { return at::tensor(v, at::kFloat); }

// Clients 0..3; 1 and 3 are hostile. Honest: 0 -> [1, 2], 2 -> [3, 6].
std::vector<ClientUpdate> round_updates() {
  return {{0, 5, vec({1, 2})}, {1, 5, vec({4, -4})}, {2, 5, vec({3, 6})}, {3, 5, vec({0, 8})}};
}

std::vector<ClientUpdate> attacked(const std::string& spec) {
  auto u = round_updates();
  apply_attack(AttackSpec::parse(spec).value(), {1, 3}, 7, 2, u);
  return u;
}

TEST(Attack, HostileClientsAreKDistinctClientsChosenByTheSeed) {
  const auto a = hostile_clients(50, 10, 3);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_GE(*a.begin(), 0);
  EXPECT_LT(*a.rbegin(), 50);
  EXPECT_EQ(hostile_clients(50, 10, 3), a);
  EXPECT_NE(hostile_clients(50, 10, 4), a);
  EXPECT_EQ(hostile_clients(5, 5, 1).size(), 5u);
}

TEST(Attack, OwnUpdateKindsFlipOrScaleTheHostileOnly) {
  auto u = attacked("signflip:2");
  EXPECT_TRUE(u[0].delta.equal(vec({1, 2})));
  EXPECT_TRUE(u[1].delta.equal(vec({-4, 4})));
  EXPECT_TRUE(u[3].delta.equal(vec({0, -8})));
  u = attacked("signflip:2,scale=3");
  EXPECT_TRUE(u[1].delta.equal(vec({-12, 12})));
  u = attacked("scaled:2");
  EXPECT_TRUE(u[1].delta.equal(vec({40, -40})));
  EXPECT_TRUE(u[2].delta.equal(vec({3, 6})));
}

TEST(Attack, IpmSendsMinusScaleTimesTheHonestMean) {
  const auto u = attacked("ipm:2,scale=0.5");  // honest mean [2, 4]
  EXPECT_TRUE(u[1].delta.equal(vec({-1, -2})));
  EXPECT_TRUE(u[3].delta.equal(vec({-1, -2})));
  EXPECT_TRUE(attacked("ipm:2")[1].delta.equal(vec({-20, -40}))) << "scale 10 by default";
}

TEST(Attack, AlieSendsTheHonestMeanMinusZStandardDeviations) {
  // n = 10, 2 hostile: s = floor(10/2 + 1) - 2 = 4, z = Phi^-1(6/10) = 0.2533471031357997
  EXPECT_NEAR(alie_z(10, 2), 0.2533471031357997, 1e-12);
  // n = 50, 10 hostile: s = 16, z = Phi^-1(34/50) = 0.4676987991145084
  EXPECT_NEAR(alie_z(50, 10), 0.4676987991145084, 1e-12);
  // honest [1, 2] and [3, 6]: mean [2, 4], sample std [sqrt(2), sqrt(8)]; n = 4, 2 hostile:
  // s = 1, z = Phi^-1(3/4) = 0.6744897501960817
  const double z = 0.6744897501960817;
  const auto u = attacked("alie:2");
  EXPECT_TRUE(u[1].delta.allclose(vec({static_cast<float>(2 - z * std::sqrt(2.0)), static_cast<float>(4 - z * std::sqrt(8.0))})));
  EXPECT_TRUE(attacked("alie:2,scale=1")[3].delta.allclose(vec({static_cast<float>(2 - std::sqrt(2.0)),
                                                                static_cast<float>(4 - std::sqrt(8.0))})));
}

TEST(Attack, GaussianIsSeededNoiseOfTheGivenStandardDeviation) {
  std::vector<ClientUpdate> u{{0, 1, at::zeros({200000})}, {1, 1, at::zeros({200000})}};
  auto again = u;
  const auto spec = AttackSpec::parse("gaussian:1,scale=0.25").value();
  apply_attack(spec, {1}, 7, 3, u);
  apply_attack(spec, {1}, 7, 3, again);
  EXPECT_TRUE(u[1].delta.equal(again[1].delta)) << "a function of (seed, round, client)";
  EXPECT_TRUE(u[0].delta.equal(at::zeros({200000})));
  // The sample std of 200000 draws is within 1 % of 0.25 (its relative error is ~1/sqrt(2n) = 0.16 %).
  EXPECT_NEAR(u[1].delta.std().item<double>(), 0.25, 0.0025);
  EXPECT_NEAR(u[1].delta.mean().item<double>(), 0.0, 0.0025);
}

TEST(Attack, LabelflipLeavesTheUpdatesAlone) {
  const auto u = attacked("labelflip:2");
  for (size_t i = 0; i < u.size(); ++i) EXPECT_TRUE(u[i].delta.equal(round_updates()[i].delta));
}

TEST(Attack, BadSpecsAreOneLineUsageErrors) {
  for (const char* spec : {"", "signflip", "signflip:", "signflip:0", "signflip:-1", "signflip:nan", "flip:2",
                           "signflip:2,scale=nan", "signflip:2,scale=inf", "signflip:2,scale=", "signflip:2,s=1",
                           "signflip:2,scale=1,scale=2", "gaussian:2,scale=0", "gaussian:2,scale=-1",
                           "labelflip:2,scale=2", "alie:4294967296000"}) {
    const auto r = AttackSpec::parse(spec);
    ASSERT_FALSE(r.is_ok()) << spec;
    EXPECT_EQ(r.code(), StatusCode::kUsage) << spec;
    EXPECT_NE(r.message().find(std::string("--attack '") + spec + "'"), std::string::npos) << r.message();
  }
  const auto ok = AttackSpec::parse("alie:3,scale=1.5");
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  EXPECT_EQ(ok.value().hostile, 3);
  EXPECT_EQ(ok.value().scale, 1.5);
  EXPECT_EQ(ok.value().name(), "alie");
}

}  // namespace
}  // namespace xfed::coordinator
