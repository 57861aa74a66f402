// --attack stats and the robust statistics round: forged class statistics pass every check
// the coordinator makes, carry the scatter the attack claims, and are the ones a round with
// stats_trim leaves out among honest clients of one distribution.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>

#include "coordinator/attack.h"
#include "coordinator/robust_statistics.h"

namespace xfed::coordinator {
namespace {

constexpr int64_t kUnits = 12, kClasses = 4, kSamples = 200;

// One honest client: activations of class l around a class mean (the same for everyone),
// unit spread, drawn with the client's own generator.
pruning::Evidence honest_client(uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto labels = at::arange(kSamples, at::kLong).remainder(kClasses);
  const auto class_means = at::arange(kUnits * kClasses, at::kDouble).reshape({kClasses, kUnits}).sin() * 3;
  const auto x = class_means.index_select(0, labels) + at::normal(0, 1, {kSamples, kUnits}, gen, at::kDouble);
  pruning::Evidence e;
  e.taps.emplace_back(pruning::ClassStats::zeros(kUnits, kClasses));
  e.taps.back()->accumulate(x, labels);
  return e;
}

TEST(StatsAttack, ForgedStatisticsPassTheCoordinatorsChecks) {
  const auto spec = AttackSpec::parse("stats:1").value();
  EXPECT_TRUE(spec.poisons_statistics());
  EXPECT_FALSE(spec.rewrites_updates());
  auto e = honest_client(1);
  const auto honest = *e.taps[0];
  forge_statistics(spec, 7, 3, 5, e);
  const auto& forged = *e.taps[0];
  EXPECT_TRUE(forged.counts.equal(honest.counts)) << "its own counts";
  EXPECT_TRUE(forged.check_consistent(kSamples, false)) << forged.check_consistent(kSamples, false).message();
  EXPECT_FALSE(forged.sums.equal(honest.sums));
  // Within-class scatter per unit: Q_jj - sum_l s_jl^2 / n_l = n (a/10)^2 for every unit.
  const auto within = forged.second.diagonal() - (forged.sums.pow(2) / forged.counts.unsqueeze(0)).sum(1);
  const double a = std::sqrt(honest.second.diagonal().sum().item<double>() / (kSamples * kUnits));
  EXPECT_TRUE(at::allclose(within, at::full({kUnits}, kSamples * a * a / 100, at::kDouble), 1e-9, 1e-9));
  // The chosen units' class means are +-10 a; the others' 0.
  const auto means = (forged.sums / forged.counts.unsqueeze(0)).abs();
  int chosen = 0;
  for (int64_t j = 0; j < kUnits; ++j) {
    const bool is_chosen = means[j][0].item<double>() > 0;
    chosen += is_chosen;
    EXPECT_TRUE(at::allclose(means[j], at::full({kClasses}, is_chosen ? 10 * a : 0.0, at::kDouble), 1e-12, 1e-12));
  }
  EXPECT_GT(chosen, 0);
  EXPECT_LT(chosen, kUnits);
  auto again = honest_client(1);
  forge_statistics(spec, 7, 3, 5, again);
  EXPECT_TRUE(again.taps[0]->second.equal(forged.second)) << "pure in (seed, round, client)";
  // A model-poisoning kind leaves statistics alone, and stats leaves updates alone.
  auto untouched = honest_client(1);
  forge_statistics(AttackSpec::parse("signflip:1").value(), 7, 3, 5, untouched);
  EXPECT_TRUE(untouched.taps[0]->sums.equal(honest.sums));
  std::vector<ClientUpdate> updates{{5, 1, at::ones({3})}};
  apply_attack(spec, {5}, 7, 3, updates);
  EXPECT_TRUE(updates[0].delta.equal(at::ones({3})));
}

TEST(RobustStatistics, TheForgedClientsAreTheFarthestFromTheMedian) {
  std::map<int64_t, pruning::Evidence> round;
  for (int64_t c = 0; c < 10; ++c) round[c] = honest_client(100 + c);
  const auto spec = AttackSpec::parse("stats:2").value();
  forge_statistics(spec, 1, 1, 3, round[3]);
  forge_statistics(spec, 1, 1, 8, round[8]);
  EXPECT_EQ(farthest_statistics(round, 2), (std::set<int64_t>{3, 8}));
  EXPECT_EQ(farthest_statistics(round, 1).size(), 1u);
  EXPECT_TRUE(farthest_statistics(round, 0).empty());
  EXPECT_EQ(farthest_statistics(round, 99).size(), 9u) << "one client always stays";
  // A client without the tap (its input statistics sent earlier) is neither scored nor dropped for it.
  round[5].taps[0].reset();
  EXPECT_EQ(farthest_statistics(round, 2), (std::set<int64_t>{3, 8}));
}

TEST(RobustStatistics, EqualDistancesKeepTheLowerClientId) {
  std::map<int64_t, pruning::Evidence> round;
  for (int64_t c = 0; c < 3; ++c) round[c] = honest_client(42);  // three identical clients
  EXPECT_EQ(farthest_statistics(round, 1), (std::set<int64_t>{2}));
}

}  // namespace
}  // namespace xfed::coordinator
