// Class statistics through secure aggregation's numbers (pruning/masked_stats.h): laid out
// over their bounds, encoded as fixed point (secagg/fixed_point.h), summed modulo 2^32 as the
// masks leave them, and decoded — against the plain sum of the same clients' statistics, with
// the error bound the header states (counts exact, the rest within n steps of their bound).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "pruning/masked_stats.h"
#include "secagg/fixed_point.h"

namespace xfed::pruning {
namespace {

constexpr int64_t kClasses = 4;

// A client's evidence over taps of `units` (0: absent), from `n` activations in [-A, A].
Evidence client_evidence(const std::vector<int64_t>& units, int64_t n, double a, uint64_t seed) {
  at::manual_seed(seed);
  Evidence e;
  e.taps.resize(units.size());
  const auto y = at::randint(0, kClasses, {n}, at::kLong);
  for (size_t t = 0; t < units.size(); ++t) {
    if (units[t] == 0) continue;
    const auto x = (at::rand({n, units[t]}, at::kDouble) * 2 - 1) * a;
    e.taps[t] = ClassStats::zeros(units[t], kClasses);
    e.taps[t]->accumulate(x, y);
  }
  return e;
}

SecretKey key_of(uint8_t k) {
  SecretKey key{};
  key[0] = k;
  return key;
}

// Σ of the clients' encodings modulo 2^32 (what unmasking leaves), decoded.
std::vector<double> masked_sum(const std::vector<std::vector<double>>& clients, const secagg::FixedPoint& fp) {
  std::vector<uint32_t> sum(clients[0].size(), 0);
  for (size_t c = 0; c < clients.size(); ++c) {
    const auto x = secagg::encode_f64(clients[c], fp, key_of(static_cast<uint8_t>(c + 1)));
    for (size_t i = 0; i < x.size(); ++i) sum[i] += x[i];
  }
  return secagg::decode_sum(sum, fp, clients.size());
}

TEST(MaskedStats, TheDecodedSumIsThePlainSumWithinTheFixedPointBound) {
  const std::vector<int64_t> units = {0, 7, 3};  // the first tap is not gathered
  const StatsBounds bounds{50, 2.5};
  const int clients = 5, bits = 20;
  const secagg::FixedPoint fp{1.0, bits, 32};
  Evidence plain;
  std::vector<std::vector<double>> values;
  for (int c = 0; c < clients; ++c) {
    const auto e = client_evidence(units, 20 + 6 * c, bounds.activation, 10 + c);  // up to 44 <= N samples
    values.push_back(to_unit_values(e, units, kClasses, bounds));
    ASSERT_EQ(values.back().size(), masked_stats_length(units, kClasses));
    for (double v : values.back()) ASSERT_LE(std::abs(v), 1.0);
    if (c == 0) {
      plain = e;
    } else {
      ASSERT_TRUE(plain.add(e));
    }
  }
  auto got = from_unit_sums(masked_sum(values, fp), units, kClasses, bounds);
  ASSERT_TRUE(got) << got.message();
  ASSERT_FALSE(got.value().taps[0].has_value());
  ASSERT_TRUE(counts_exact(clients, bounds, bits));
  const double n = clients, step = fp.step();  // one value's rounding: under one step
  for (size_t t = 1; t < units.size(); ++t) {
    const auto& want = *plain.taps[t];
    const auto& have = *got.value().taps[t];
    EXPECT_TRUE(at::equal(have.counts, want.counts)) << "counts are whole numbers, decoded exactly";
    const double sum_bound = n * step * bounds.samples * bounds.activation;
    const double second_bound = sum_bound * bounds.activation;
    EXPECT_LE((have.sums - want.sums).abs().max().item<double>(), sum_bound) << t;
    EXPECT_LE((have.second - want.second).abs().max().item<double>(), second_bound) << t;
    EXPECT_TRUE(at::equal(have.second, have.second.t())) << "the second moment comes back symmetric";
    EXPECT_GT((have.sums - want.sums).abs().max().item<double>(), 0.0) << "the rounding is real: the test can fail";
  }
}

TEST(MaskedStats, ValuesBeyondTheirBoundAreClippedAndAMissingTapIsZeros) {
  const std::vector<int64_t> units = {2};
  Evidence e;
  e.taps.resize(1);
  auto s = ClassStats::zeros(2, kClasses);
  s.counts[1] = 3.0;
  s.sums[0][1] = 100.0;   // beyond N·A = 10
  s.sums[1][1] = -2.0;
  s.second[0][0] = 1e9;   // beyond N·A² = 20
  s.second[0][1] = s.second[1][0] = -5.0;
  e.taps[0] = s;
  const StatsBounds bounds{5, 2.0};
  const auto v = to_unit_values(e, units, kClasses, bounds);
  // counts (4), sums (2x4, row-major), second's upper triangle (3)
  ASSERT_EQ(v.size(), 4u + 8u + 3u);
  EXPECT_DOUBLE_EQ(v[1], 3.0 / 5);
  EXPECT_DOUBLE_EQ(v[4 + 1], 1.0);
  EXPECT_DOUBLE_EQ(v[4 + 4 + 1], -2.0 / 10);
  EXPECT_DOUBLE_EQ(v[12], 1.0);
  EXPECT_DOUBLE_EQ(v[13], -5.0 / 20);
  EXPECT_DOUBLE_EQ(v[14], 0.0);
  Evidence none;  // a client that saw no sample sends zeros
  for (double x : to_unit_values(none, units, kClasses, bounds)) EXPECT_EQ(x, 0.0);
}

TEST(MaskedStats, ALengthThatDoesNotFitTheTapsIsAnError) {
  const std::vector<int64_t> units = {3, 2};
  const auto n = masked_stats_length(units, kClasses);
  EXPECT_EQ(n, (4u + 12u + 6u) + (4u + 8u + 3u));
  EXPECT_FALSE(from_unit_sums(std::vector<double>(n - 1, 0.0), units, kClasses, StatsBounds{10, 1.0}));
  EXPECT_FALSE(from_unit_sums(std::vector<double>(n + 1, 0.0), units, kClasses, StatsBounds{10, 1.0}));
  EXPECT_TRUE(from_unit_sums(std::vector<double>(n, 0.0), units, kClasses, StatsBounds{10, 1.0}));
}

TEST(MaskedStats, CountsAreExactBelowTheStatedLimitOnly) {
  // 4·n·N < 2^B − 1
  EXPECT_TRUE(counts_exact(100, StatsBounds{1000, 1.0}, 25));   // 4e5 < 3.4e7
  EXPECT_TRUE(counts_exact(1, StatsBounds{1023, 1.0}, 12));     // 4092 < 4095
  EXPECT_FALSE(counts_exact(1, StatsBounds{1024, 1.0}, 12));    // 4096
  EXPECT_FALSE(counts_exact(2000, StatsBounds{1000, 1.0}, 21));
}

}  // namespace
}  // namespace xfed::pruning
