#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "core/partition.h"

namespace xfed {
namespace {

std::vector<int64_t> balanced_labels(int64_t n, int64_t classes) {
  std::vector<int64_t> l(n);
  for (int64_t i = 0; i < n; ++i) l[i] = (i * 7) % classes;  // interleaved, not sorted
  return l;
}

// Every sample is owned by exactly one client.
void expect_disjoint_cover(const Partition& p, int64_t n, bool all = true) {
  std::vector<int> owner(n, 0);
  for (const auto& part : p.indices) {
    EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
    for (auto i : part) ++owner[i];
  }
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_LE(owner[i], 1) << "sample " << i << " given twice";
    if (all) {
      EXPECT_EQ(owner[i], 1) << "sample " << i << " lost";
    }
  }
}

TEST(Partition, IidSizesDifferByAtMostOne) {
  const auto labels = balanced_labels(103, 10);
  auto p = make_partition(labels, 10, PartitionSpec{}, 10, 1);
  ASSERT_TRUE(p);
  auto sizes = p.value().sizes();
  EXPECT_EQ(*std::max_element(sizes.begin(), sizes.end()), 11);
  EXPECT_EQ(*std::min_element(sizes.begin(), sizes.end()), 10);
  expect_disjoint_cover(p.value(), 103);
}

TEST(Partition, SameSeedSamePartitionOtherSeedDiffers) {
  const auto labels = balanced_labels(500, 10);
  auto a = make_partition(labels, 10, PartitionSpec{}, 7, 3).value();
  auto b = make_partition(labels, 10, PartitionSpec{}, 7, 3).value();
  auto c = make_partition(labels, 10, PartitionSpec{}, 7, 4).value();
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_NE(a.indices, c.indices);
}

TEST(Partition, ShardsGiveExactCountsAndAtMostKClasses) {
  const int64_t n = 1000, clients = 10, k = 2;
  const auto labels = balanced_labels(n, 10);
  auto spec = PartitionSpec::parse("shards:2").value();
  auto p = make_partition(labels, 10, spec, clients, 5);
  ASSERT_TRUE(p);
  const auto hist = class_histograms(p.value(), labels, 10);
  for (int64_t c = 0; c < clients; ++c) {
    EXPECT_EQ(p.value().indices[c].size(), static_cast<size_t>(n / (clients * k)) * k);
    int classes_held = 0;
    for (auto h : hist[c]) classes_held += h > 0;
    EXPECT_LE(classes_held, k);
  }
  expect_disjoint_cover(p.value(), n);
}

// 100 samples in 40 shards: 20 shards of 3 and 20 of 2, every sample used, every class held.
TEST(Partition, ShardsUseEverySampleWhenTheyDoNotDivideIt) {
  const auto labels = balanced_labels(100, 10);
  auto p = make_partition(labels, 10, PartitionSpec::parse("shards:10").value(), 4, 3);
  ASSERT_TRUE(p) << p.message();
  expect_disjoint_cover(p.value(), 100);
  std::vector<int64_t> held(10, 0);
  for (const auto& h : class_histograms(p.value(), labels, 10))
    for (int k = 0; k < 10; ++k) held[k] += h[k];
  for (int k = 0; k < 10; ++k) EXPECT_EQ(held[k], 10) << "class " << k;
  for (auto s : p.value().sizes()) EXPECT_TRUE(s >= 20 && s <= 30) << s;
}

// A tiny alpha is the Dirichlet's limit, nearly one client per class, never an even split:
// with more clients than classes some client is left without data, which is an error; with
// as many, each class goes (almost) whole to one client.
TEST(Partition, ATinyAlphaGivesNearlyOneClientPerClassNotAnEvenSplit) {
  const auto labels = balanced_labels(2000, 10);
  for (const char* spec : {"dirichlet:1e-5", "dirichlet:1e-320"}) {
    EXPECT_FALSE(make_partition(labels, 10, PartitionSpec::parse(spec).value(), 20, 4)) << spec;
    auto two = make_partition(labels, 10, PartitionSpec::parse(spec).value(), 2, 4);
    ASSERT_TRUE(two) << spec << ": " << two.message();
    expect_disjoint_cover(two.value(), 2000);
    for (const auto& h : class_histograms(two.value(), labels, 10))
      for (auto count : h) EXPECT_TRUE(count <= 2 || count >= 198) << spec << ": a class split " << count;
  }
}

TEST(Partition, DirichletCoversEverythingWithSkew) {
  const int64_t n = 2000;
  const auto labels = balanced_labels(n, 10);
  auto spec = PartitionSpec::parse("dirichlet:0.1").value();
  auto p = make_partition(labels, 10, spec, 10, 9);
  ASSERT_TRUE(p) << p.message();
  expect_disjoint_cover(p.value(), n);
  const auto hist = class_histograms(p.value(), labels, 10);
  int dominated = 0;  // clients whose largest class is > half of their data
  for (const auto& h : hist) {
    const int64_t total = std::accumulate(h.begin(), h.end(), int64_t{0});
    EXPECT_GE(total, kMinDirichletSamples);
    dominated += *std::max_element(h.begin(), h.end()) * 2 > total;
  }
  EXPECT_GE(dominated, 5) << "alpha 0.1 should give strongly skewed clients";
}

TEST(Partition, LargeAlphaIsNearlyBalanced) {
  const auto labels = balanced_labels(5000, 10);
  auto p = make_partition(labels, 10, PartitionSpec::parse("dirichlet:1000").value(), 5, 2);
  ASSERT_TRUE(p);
  for (auto s : p.value().sizes()) EXPECT_NEAR(s, 1000, 60);
}

TEST(Partition, SpecParsingErrorsNameTheFlag) {
  for (const char* bad : {"", "iid:3", "dirichlet", "dirichlet:0", "dirichlet:-1", "dirichlet:x",
                          "shards:0", "shards:1.5", "random"}) {
    auto s = PartitionSpec::parse(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_NE(s.message().find("--partition"), std::string::npos);
  }
  EXPECT_EQ(PartitionSpec::parse("shards:3").value().shards, 3);
  EXPECT_DOUBLE_EQ(PartitionSpec::parse("dirichlet:0.5").value().alpha, 0.5);
}

TEST(Partition, ImpossibleRequestsAreErrors) {
  const auto labels = balanced_labels(20, 10);
  EXPECT_FALSE(make_partition(labels, 10, PartitionSpec{}, 21, 1));
  EXPECT_FALSE(make_partition(labels, 10, PartitionSpec{}, 0, 1));
  EXPECT_FALSE(make_partition(labels, 10, PartitionSpec::parse("shards:3").value(), 10, 1));
}

}  // namespace
}  // namespace xfed
