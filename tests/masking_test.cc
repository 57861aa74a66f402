// Secure aggregation's arithmetic (secagg/): fixed-point sums that never wrap, masks that
// cancel for every dropout pattern the threshold allows (dropped clients' keys recovered
// from Shamir shares, as the coordinator would), masked vectors that look uniform, and the
// neighbour graph.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/key_agreement.h"
#include "secagg/fixed_point.h"
#include "secagg/masking.h"
#include "secagg/neighbours.h"
#include "secagg/shamir.h"

namespace xfed::secagg {
namespace {

TEST(FixedPoint, TheSumOfEncodingsDecodesToTheSumWithinOneStepPerValue) {
  const FixedPoint fp{0.5, 12};
  std::vector<std::vector<float>> values = {{0.1f, -0.5f, 0.49f, 2.0f}, {-0.3f, 0.25f, 0.0f, -7.0f}, {0.2f, 0.2f, 0.2f, 0.2f}};
  std::vector<uint32_t> sum(4, 0);
  for (const auto& v : values) {
    const auto e = encode(v, fp, random_secret());
    for (size_t i = 0; i < 4; ++i) sum[i] += e[i];
  }
  const auto decoded = decode_sum(sum, fp, 3);
  const double expected[4] = {0.1 - 0.3 + 0.2, -0.5 + 0.25 + 0.2, 0.49 + 0.0 + 0.2, 0.5 - 0.5 + 0.2};  // clipped
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(decoded[i], expected[i], 3 * fp.step() + 1e-7) << i;
  EXPECT_NEAR(decode_sum(encode({-0.5f, 0.5f}, fp, random_secret()), fp, 1)[0], -0.5, 1e-12);  // the ends exactly
}

TEST(FixedPoint, StochasticRoundingIsUnbiased) {
  const FixedPoint fp{1.0, 4};  // coarse: step 2/15
  const float v = 0.05f;        // between two steps
  double total = 0;
  const int trials = 20000;
  for (int t = 0; t < trials; ++t) total += decode_sum(encode({v}, fp, random_secret()), fp, 1)[0];
  // The rounding error has std at most step/2: the mean of `trials` within 5 standard errors.
  EXPECT_NEAR(total / trials, v, 5 * fp.step() / 2 / std::sqrt(trials));
}

TEST(FixedPoint, TheLargestSumFitsInTheRingAndOneMoreSummandWouldNot) {
  for (auto [bits, ring] : std::vector<std::pair<int, int>>{{1, 32}, {8, 32}, {8, 15}, {16, 32}, {24, 30}, {31, 31}}) {
    const FixedPoint fp{1.0, bits, ring};
    ASSERT_TRUE(fp.check()) << bits;
    const uint64_t top = (uint64_t{1} << bits) - 1, modulus = uint64_t{1} << ring;
    EXPECT_LT(fp.max_summands() * top, modulus) << bits;
    EXPECT_GE((fp.max_summands() + 1) * top, modulus) << bits;
    // max_summands clients all at +R: the modular sum is the true sum.
    const auto e = encode({1.0f}, fp, random_secret());
    const uint64_t n = std::min<uint64_t>(fp.max_summands(), 100000);
    uint32_t sum = 0;
    for (uint64_t c = 0; c < n; ++c) sum = (sum + e[0]) & fp.ring_mask();
    EXPECT_EQ(sum, n * top) << bits;
  }
  EXPECT_EQ(FixedPoint({1.0, 8, 15}).max_summands(), 128u) << "100 clients of 8 bits fit in 15";
  EXPECT_FALSE(FixedPoint({0.0, 8}).check());
  EXPECT_FALSE(FixedPoint({NAN, 8}).check());
  EXPECT_FALSE(FixedPoint({1.0, 0}).check());
  EXPECT_FALSE(FixedPoint({1.0, 32}).check());
  EXPECT_FALSE(FixedPoint({1.0, 8, 7}).check());
  EXPECT_FALSE(FixedPoint({1.0, 8, 33}).check());
}

TEST(NeighbourGraph, EachClientHasKNeighboursAndTheGraphIsSymmetric) {
  std::vector<int64_t> clients;
  for (int64_t c = 0; c < 40; ++c) clients.push_back(3 * c + 1);
  const auto g = neighbour_graph(clients, 6, 42);
  ASSERT_EQ(g.size(), 40u);
  for (const auto& [u, ns] : g) {
    EXPECT_EQ(ns.size(), 6u) << u;
    for (int64_t v : ns) {
      EXPECT_NE(u, v);
      EXPECT_TRUE(std::binary_search(g.at(v).begin(), g.at(v).end(), u)) << u << " " << v;
    }
  }
  EXPECT_EQ(neighbour_graph(clients, 6, 42), g) << "from the seed alone";
  EXPECT_NE(neighbour_graph(clients, 6, 43), g);
  const auto small = neighbour_graph({5, 9, 2}, 4, 1);  // n <= k + 1: everyone
  EXPECT_EQ(small.at(5), (std::vector<int64_t>{2, 9}));
}

// One client of a round: keys, self-mask seed, its input.
struct Client {
  KeyPair keys;
  SecretKey self_seed;
  std::vector<uint32_t> input;
};

TEST(Masking, MasksCancelForEveryDropoutPatternAboveTheThreshold) {
  const int64_t n = 10;
  const int k = 4, t = 3;  // t of a client's k neighbours' shares recover its secrets
  const size_t d = 257;
  std::vector<int64_t> ids;
  for (int64_t c = 0; c < n; ++c) ids.push_back(c);
  const auto graph = neighbour_graph(ids, k, 7);
  std::map<int64_t, Client> clients;
  for (int64_t c : ids) {
    Client cl{x25519_keypair(), random_secret(), {}};
    for (size_t i = 0; i < d; ++i) cl.input.push_back(static_cast<uint32_t>((c + 1) * 1000 + i));
    clients[c] = cl;
  }
  // Shares of each client's secret key and self seed, one per neighbour (point = position + 1).
  std::map<int64_t, std::vector<ShamirShare>> key_shares, seed_shares;
  for (int64_t c : ids) {
    std::vector<uint8_t> xs;
    for (size_t j = 0; j < graph.at(c).size(); ++j) xs.push_back(static_cast<uint8_t>(j + 1));
    key_shares[c] = shamir_split(clients[c].keys.secret_key, t, xs).value();
    seed_shares[c] = shamir_split(clients[c].self_seed, t, xs).value();
  }
  std::map<int64_t, std::vector<uint32_t>> masked;
  for (int64_t c : ids) {
    std::vector<PairKey> pairs;
    for (int64_t v : graph.at(c)) pairs.push_back({v, *agreed_key(clients[c].keys, clients[v].keys.public_key)});
    masked[c] = clients[c].input;
    add_masks(masked[c], c, clients[c].self_seed, pairs);
    EXPECT_NE(masked[c], clients[c].input);
  }
  // Every set of dropped clients that leaves each client at least t surviving neighbours.
  int patterns = 0;
  for (uint32_t dropped_bits = 0; dropped_bits < (1u << n); ++dropped_bits) {
    std::set<int64_t> dropped;
    for (int64_t c : ids)
      if (dropped_bits >> c & 1) dropped.insert(c);
    if (dropped.size() > 3) continue;
    bool recoverable = true;
    for (int64_t c : ids) {
      int alive = 0;
      for (int64_t v : graph.at(c)) alive += !dropped.count(v);
      recoverable = recoverable && alive >= t;
    }
    if (!recoverable) continue;
    ++patterns;
    std::vector<uint32_t> sum(d, 0), expected(d, 0);
    std::vector<SecretKey> seeds;
    std::map<int64_t, std::vector<PairKey>> dropped_pairs;
    for (int64_t c : ids) {
      // The shares the surviving neighbours hand over for c: of its seed if it survived, of
      // its key if it dropped (never both).
      std::vector<ShamirShare> given;
      for (size_t j = 0; j < graph.at(c).size(); ++j)
        if (!dropped.count(graph.at(c)[j])) given.push_back((dropped.count(c) ? key_shares : seed_shares)[c][j]);
      if (!dropped.count(c)) {
        for (size_t i = 0; i < d; ++i) sum[i] += masked[c][i], expected[i] += clients[c].input[i];
        seeds.push_back(shamir_combine(given).value());
      } else {
        KeyPair recovered;
        recovered.secret_key = shamir_combine(given).value();
        recovered.public_key = x25519_public_key(recovered.secret_key);
        ASSERT_EQ(recovered.public_key, clients[c].keys.public_key);
        for (int64_t v : graph.at(c))
          if (!dropped.count(v)) dropped_pairs[c].push_back({v, *agreed_key(recovered, clients[v].keys.public_key)});
      }
    }
    remove_masks(sum, seeds, dropped_pairs);
    EXPECT_EQ(sum, expected) << "dropped " << dropped_bits;
  }
  EXPECT_GE(patterns, 1 + n) << "no dropout, and any single client dropped";
}

// Chi-square over the 256 values of each word's top byte: 255 degrees of freedom, mean 255,
// std ~22.6; 400 is beyond 6 standard deviations.
double chi_square_of_top_bytes(const std::vector<uint32_t>& words) {
  std::vector<double> bins(256, 0);
  for (uint32_t w : words) bins[w >> 24] += 1;
  const double e = static_cast<double>(words.size()) / 256;
  double chi = 0;
  for (double b : bins) chi += (b - e) * (b - e) / e;
  return chi;
}

TEST(Masking, AMaskedVectorLooksUniformWhereThePlainOneDoesNot) {
  const FixedPoint fp{1.0, 16};
  std::vector<float> values(65536);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.01f * static_cast<float>(i % 7);
  auto x = encode(values, fp, random_secret());
  EXPECT_GT(chi_square_of_top_bytes(x), 10000) << "16-bit values: the top byte is always 0";
  add_masks(x, 3, random_secret(), {{1, random_secret()}, {8, random_secret()}});
  EXPECT_LT(chi_square_of_top_bytes(x), 400);
}

}  // namespace
}  // namespace xfed::secagg
