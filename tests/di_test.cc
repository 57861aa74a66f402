// DI math against independent computations on raw data (double precision throughout), and
// what the bfloat16 path of float32 activations does to the statistics and scores.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>

#include "pruning/bf16_gram.h"
#include "pruning/class_stats.h"
#include "pruning/di.h"
#include "pruning/gram.h"
#include "tests/stats_bound.h"

namespace xfed::pruning {
namespace {

struct Data {
  at::Tensor x;  // [n, M] double
  at::Tensor y;  // [n] long
};

// Class-dependent Gaussian activations, correlated units.
Data make_data(int64_t n, int64_t m, int64_t classes, uint64_t seed) {
  at::manual_seed(seed);
  const auto y = at::randint(0, classes, {n}, at::kLong);
  const auto means = at::randn({classes, m}, at::kDouble);
  const auto mix = at::randn({m, m}, at::kDouble) / std::sqrt(static_cast<double>(m));
  const auto x = means.index_select(0, y) + at::randn({n, m}, at::kDouble).mm(mix);
  return {x, y};
}

ClassStats stats_of(const Data& d, int64_t classes) {
  auto s = ClassStats::zeros(d.x.size(1), classes);
  s.accumulate(d.x, d.y);
  return s;
}

// DI straight from the definition: centered data, between-class scatter from class means.
double direct_di(const Data& d, int64_t classes, double rho) {
  const int64_t m = d.x.size(1);
  const auto mu = d.x.mean(0);
  const auto xc = d.x - mu;
  auto sb = at::zeros({m, m}, at::kDouble);
  for (int64_t l = 0; l < classes; ++l) {
    const auto rows = d.x.index_select(0, d.y.eq(l).nonzero().squeeze(1));
    if (rows.size(0) == 0) continue;
    const auto diff = rows.mean(0) - mu;
    sb += rows.size(0) * at::outer(diff, diff);
  }
  const auto a = xc.t().mm(xc) + rho * at::eye(m, at::kDouble);
  return at::linalg_solve(a, sb).trace().item<double>();
}

double rel(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-300); }

class FederatedDi : public ::testing::TestWithParam<bool> {};

// Summed client statistics give the same DI and scores as the union of the data, and as
// the textbook computation on that union — iid and label-skewed (clients missing classes).
TEST_P(FederatedDi, EqualsCentralComputationOnTheUnion) {
  const bool skewed = GetParam();
  const int64_t classes = 5, m = 12;
  const auto all = make_data(3000, m, classes, 1);
  auto federated = ClassStats::zeros(m, classes);
  for (int c = 0; c < 4; ++c) {
    // skewed: client 0 holds classes {0, 1}, client c > 0 only class c + 1
    const auto rows = skewed ? (c == 0 ? all.y.le(1) : all.y.eq(c + 1)).nonzero().squeeze(1)
                             : at::arange(c, 3000, 4, at::kLong);
    federated += stats_of({all.x.index_select(0, rows), all.y.index_select(0, rows)}, classes);
  }
  const auto central = stats_of(all, classes);
  EXPECT_NEAR(federated.samples(), 3000, 0);
  const auto f = di_scores(federated).value(), c = di_scores(central).value();
  EXPECT_LT(rel(f.di, c.di), 1e-9);
  EXPECT_LT(rel(f.rho, c.rho), 1e-9);
  EXPECT_LT(((f.diloss - c.diloss).abs().max() / c.diloss.abs().max()).item<double>(), 1e-9);
  EXPECT_LT(((f.drop - c.drop).abs().max() / c.drop.abs().max()).item<double>(), 1e-9);
  EXPECT_LT(rel(f.di, direct_di(all, classes, f.rho)), 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Splits, FederatedDi, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "label_skewed" : "iid"; });

// DiLOSS_i is the derivative of DI when unit i is scaled by alpha_i (at alpha = 1, rho fixed).
TEST(Di, DilossIsTheDerivativeOfDi) {
  const int64_t m = 8, classes = 3;
  const auto d = make_data(500, m, classes, 2);
  const auto s = di_scores(stats_of(d, classes)).value();
  for (int64_t i = 0; i < m; ++i) {
    auto di_at = [&](double alpha) {
      auto x = d.x.clone();
      x.select(1, i).mul_(alpha);
      return di_scores(stats_of({x, d.y}, classes), RhoOptions{0, s.rho}).value().di;
    };
    const double h = 1e-5;
    const double fd = (di_at(1 + h) - di_at(1 - h)) / (2 * h);
    EXPECT_NEAR(s.diloss[i].item<double>(), fd, 1e-6 * std::max(1.0, std::fabs(fd))) << "unit " << i;
  }
}

// drop_i is exactly DI minus the DI of the layer without unit i, and never negative.
TEST(Di, DropIsTheExactLeaveOneOutLoss) {
  const int64_t m = 7, classes = 4;
  const auto d = make_data(400, m, classes, 3);
  const auto s = di_scores(stats_of(d, classes)).value();
  for (int64_t i = 0; i < m; ++i) {
    std::vector<int64_t> others;
    for (int64_t j = 0; j < m; ++j)
      if (j != i) others.push_back(j);
    const auto without = di_scores(stats_of(d, classes).select_units(others), RhoOptions{0, s.rho}).value();
    EXPECT_NEAR(s.drop[i].item<double>(), s.di - without.di, 1e-9 * s.di);
    EXPECT_GE(s.di - without.di, -1e-12) << "removing a unit never raises DI";
  }
}

// With weighted one-hot teachers (1/sqrt(N_l) on class l), ridge regression from centered
// activations leaves an error of (L - 1) - DI. Solved here on the raw data.
TEST(Di, RidgeLseIsConstantMinusDi) {
  const int64_t m = 6, classes = 4, n = 300;
  const auto d = make_data(n, m, classes, 4);
  const auto s = di_scores(stats_of(d, classes)).value();
  auto t = at::zeros({n, classes}, at::kDouble);
  const auto counts = at::bincount(d.y, {}, classes).to(at::kDouble);
  for (int64_t i = 0; i < n; ++i) t[i][d.y[i].item<int64_t>()] = 1.0 / std::sqrt(counts[d.y[i]].item<double>());
  const auto xc = d.x - d.x.mean(0), tc = t - t.mean(0);
  // min ||Xc W - Tc||^2 + rho ||W||^2 as least squares on [Xc; sqrt(rho) I].
  const auto a = at::cat({xc, std::sqrt(s.rho) * at::eye(m, at::kDouble)});
  const auto b = at::cat({tc, at::zeros({m, classes}, at::kDouble)});
  const auto w = std::get<0>(at::linalg_lstsq(a, b));
  const double lse = (a.mm(w) - b).pow(2).sum().item<double>();
  EXPECT_NEAR(lse, (classes - 1) - s.di, 1e-9 * classes);
}

TEST(Di, DegenerateInputsGiveFiniteScoresOrAClearError) {
  // A class with no samples.
  auto d = make_data(200, 5, 3, 5);
  auto s = stats_of(d, 6);  // classes 3..5 never occur
  auto r = di_scores(s);
  ASSERT_TRUE(r);
  EXPECT_TRUE(at::isfinite(r.value().diloss).all().item<bool>());
  // One unit.
  auto one = di_scores(stats_of({d.x.narrow(1, 0, 1), d.y}, 3));
  ASSERT_TRUE(one);
  EXPECT_GT(one.value().di, 0);
  // Constant activations.
  auto flat = di_scores(stats_of({at::ones({50, 4}, at::kDouble), d.y.narrow(0, 0, 50)}, 3));
  ASSERT_TRUE(flat);
  EXPECT_NEAR(flat.value().di, 0.0, 1e-9);
  EXPECT_TRUE(at::isfinite(flat.value().diloss).all().item<bool>());
  // No samples at all.
  auto none = di_scores(ClassStats::zeros(4, 3));
  ASSERT_FALSE(none);
  EXPECT_NE(none.message().find("no samples"), std::string::npos);
}

TEST(Di, RhoDefaultsToFiveTimesTheMeanVariance) {
  const auto d = make_data(300, 5, 3, 6);
  const auto xc = d.x - d.x.mean(0);
  const double expected = 5 * xc.pow(2).sum().item<double>() / 5;
  EXPECT_LT(rel(di_scores(stats_of(d, 3)).value().rho, expected), 1e-9);
  EXPECT_DOUBLE_EQ(di_scores(stats_of(d, 3), RhoOptions{5, 0.25}).value().rho, 0.25);
}

// Float32 batches are the statistics of the bfloat16-rounded activations, on either Gram
// path (bf16 matrix units when the CPU has them, float32 BLAS otherwise): equal to float64
// statistics of the rounded values within the float32 summation bound (pruning/gram.h), and
// the second moment exactly symmetric. Both paths run on every machine; a CPU without bf16
// units runs the BLAS path twice and says so.
TEST(ClassStats, Float32BatchesAreStatisticsOfBf16RoundedValues) {
  const auto d = make_data(1000, 20, 4, 7);
  const Data rounded{d.x.to(at::kFloat).to(at::kBFloat16).to(at::kDouble), d.y};
  const auto expected = stats_of(rounded, 4);
  for (bool units : {true, false}) {
    use_bf16_units(units);
    if (units && !bf16_units_active()) std::cout << "[ NOTE     ] this CPU has no bf16 matrix units\n";
    auto b = ClassStats::zeros(20, 4);
    for (int64_t s = 0; s < 1000; s += 300) {
      const int64_t len = std::min<int64_t>(300, 1000 - s);
      b.accumulate(d.x.narrow(0, s, len).to(at::kFloat), d.y.narrow(0, s, len));
    }
    // Float64 sums of exact products on one side: one float32 bound, plus float64's.
    EXPECT_TRUE(testing::within_sum_bound(b, expected, float32_sum_bound() + 1e-12)) << gram_path_name();
    EXPECT_TRUE(b.second.equal(b.second.t()));
    // Rounding moved the statistics, by about bfloat16's precision and no more.
    const auto exact = stats_of(d, 4);
    const double moved = ((b.second - exact.second).abs().max() / exact.second.abs().max()).item<double>();
    EXPECT_GT(moved, 1e-6);
    EXPECT_LT(moved, 1.0 / 256);
  }
  use_bf16_units(true);
}

// Additivity on float32 rows: statistics of three clients' rows, summed, equal those of the
// union within twice the float32 summation bound (each side sums the same rounded values in
// its own grouping), on both Gram paths and for both roundings. Spatial-size batches
// (> kFloat32SumRows rows) check that long batches are split into bounded float32 sums.
TEST(ClassStats, ClientsSumToTheUnionWithinTheFloat32Bound) {
  const auto d = make_data(3 * 3000, 16, 5, 13);
  const auto x = d.x.to(at::kFloat);
  for (bool units : {true, false})
    for (auto rounding : {ClassStats::Rounding::kBf16, ClassStats::Rounding::kNone}) {
      use_bf16_units(units);
      auto summed = ClassStats::zeros(16, 5), central = ClassStats::zeros(16, 5);
      for (int64_t k = 0; k < 3; ++k) {
        auto client = ClassStats::zeros(16, 5);
        client.accumulate(x.narrow(0, k * 3000, 3000), d.y.narrow(0, k * 3000, 3000), rounding);
        summed += client;
      }
      central.accumulate(x, d.y, rounding);
      EXPECT_TRUE(testing::within_sum_bound(summed, central, 2 * float32_sum_bound() + 1e-12))
          << gram_path_name() << ", rounding " << static_cast<int>(rounding);
      // A bug in the grouping (a lost chunk) is far outside the bound.
      auto lost = ClassStats::zeros(16, 5);
      lost.accumulate(x.narrow(0, 0, 6000), d.y.narrow(0, 0, 6000), rounding);
      lost.counts = central.counts.clone();
      EXPECT_FALSE(testing::within_sum_bound(lost, central, 2 * float32_sum_bound()));
    }
  use_bf16_units(true);
}

// What the rounding does to the scores: DI and DiLOSS within 1 % of the exact float64
// values, and the same top half of units.
TEST(ClassStats, Bf16RoundingKeepsScoresAndRanking) {
  const int64_t m = 40, classes = 10;
  const auto d = make_data(3000, m, classes, 11);
  auto rounded = ClassStats::zeros(m, classes);
  rounded.accumulate(d.x.to(at::kFloat), d.y);
  const auto a = di_scores(rounded).value(), b = di_scores(stats_of(d, classes)).value();
  EXPECT_LT(rel(a.di, b.di), 1e-2);
  EXPECT_LT(((a.diloss - b.diloss).abs().max() / b.diloss.abs().max()).item<double>(), 1e-2);
  const auto top = [&](const at::Tensor& s) { return std::get<0>(std::get<1>(s.topk(m / 2)).sort()); };
  EXPECT_TRUE(top(a.diloss).equal(top(b.diloss)));
}

TEST(ClassStats, SerializationRoundTripsAndRejectsBadInput) {
  const auto s = stats_of(make_data(100, 6, 3, 8), 3);
  Bytes b;
  ByteWriter w(&b);
  s.write(w);
  EXPECT_EQ(b.size(), 2 + 8 * (3 + 6 * 3 + 6 * 7 / 2)) << "upper triangle only";
  ByteReader r(b);
  auto back = ClassStats::read(r, 6, 3);
  ASSERT_TRUE(back) << back.message();
  EXPECT_TRUE(back.value().second.equal(s.second));
  EXPECT_TRUE(back.value().sums.equal(s.sums));
  ByteReader r2(b);
  EXPECT_FALSE(ClassStats::read(r2, 5, 3)) << "more units than the layer has";
  Bytes cut(b.begin(), b.end() - 1);
  ByteReader r3(cut);
  EXPECT_FALSE(ClassStats::read(r3, 6, 3));
}

// The coordinator's checks of one client's statistics: an honest client's pass (bf16 and
// float32 Gram, a unit constant within its class: the bound's equality case); fakes do not.
TEST(ClassStats, AClientsStatisticsMustBeConsistentWithItsSamples) {
  at::manual_seed(4);
  for (const auto rounding : {ClassStats::Rounding::kBf16, ClassStats::Rounding::kNone}) {
    auto honest = ClassStats::zeros(5, 3);
    auto a = at::relu(at::randn({200, 5}));
    a.select(1, 4).fill_(0.7f);  // constant: Q_jj = sum_l s_jl^2 / n_l exactly
    const auto labels = at::randint(0, 2, {200}, at::kLong);  // class 2 unseen
    honest.accumulate(a, labels, rounding);
    EXPECT_TRUE(honest.check_consistent(200, false)) << honest.check_consistent(200, false).message();
    EXPECT_TRUE(honest.check_consistent(100, false)) << "spatial taps count positions: a multiple";
    EXPECT_EQ(honest.check_consistent(201, false).message(), "class counts total 200 for 201 samples");

    auto shrunk = honest;
    shrunk.second = honest.second * 0.5;  // a fake that hides spread: Q below what the sums imply
    EXPECT_NE(shrunk.check_consistent(200, false).message().find("second moments smaller than the activation sums imply"),
              std::string::npos);
    EXPECT_TRUE(shrunk.check_consistent(200, true)) << "noised statistics are not held to the bound";
    auto fractional = honest;
    fractional.counts = honest.counts.clone();
    fractional.counts[0] += 0.5;
    fractional.counts[1] -= 0.5;
    EXPECT_EQ(fractional.check_consistent(200, false).message(), "class counts that are not whole");
    auto ghost = honest;
    ghost.sums = honest.sums.clone();
    ghost.sums[0][2] = 3.0;
    EXPECT_EQ(ghost.check_consistent(200, false).message(), "activation sums for a class with no samples");
  }
}

}  // namespace
}  // namespace xfed::pruning
