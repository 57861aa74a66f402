// Deep Compression's two pure stages (#20): one-dimensional k-means with linear
// initialization (compression/kmeans.h) and canonical Huffman codes (compression/huffman.h),
// against hand-made data with known answers.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "compression/huffman.h"
#include "compression/kmeans.h"
#include "compression/shared_matrix.h"

namespace xfed::compression {
namespace {

TEST(WeightSharing, ClosedFormClustersOnHandMadeWeights) {
  // Linear start {0, 10}; {0, 0, 1, 1} go to 0 and move it to 0.5, {10, 10} stay: done.
  const auto s = share_weights({0, 10, 1, 0, 1, 10}, 2).value();
  EXPECT_EQ(s.centroids, (std::vector<float>{0.5f, 10.0f}));
  EXPECT_EQ(s.index, (std::vector<uint32_t>{0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(expand_shared(s), (std::vector<float>{0.5f, 10, 0.5f, 0.5f, 0.5f, 10}));
  // A tie at the midpoint goes to the lower centroid; k = 1 is the midrange, then the mean.
  EXPECT_EQ(share_weights({-1, 0, 1}, 2).value().index, (std::vector<uint32_t>{0, 0, 1}));
  EXPECT_FLOAT_EQ(share_weights({0, 0, 3}, 1).value().centroids[0], 1.0f);
}

TEST(WeightSharing, RecoversWellSeparatedClustersAndKeepsEmptyOnes) {
  std::mt19937 gen(5);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  const std::vector<float> centers = {-0.8f, -0.1f, 0.05f, 0.9f};
  std::vector<float> w;
  std::vector<uint32_t> truth;
  for (int i = 0; i < 4000; ++i) {
    const uint32_t c = static_cast<uint32_t>(i % 4);
    w.push_back(centers[c] + noise(gen));
    truth.push_back(c);
  }
  // Eight linear starts over [-0.83, 0.93]: four of them end on the clusters, the others
  // lose their weights and stay where they started; every weight is with its own cluster.
  const auto s = share_weights(w, 8).value();
  ASSERT_EQ(s.centroids.size(), 8u);
  EXPECT_TRUE(std::is_sorted(s.centroids.begin(), s.centroids.end()));
  std::vector<int> used(8, 0);
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_NEAR(s.centroids[s.index[i]], centers[truth[i]], 0.002) << i;  // 4 sigma / sqrt(1000)
    used[s.index[i]] = 1;
  }
  EXPECT_EQ(std::accumulate(used.begin(), used.end(), 0), 4);
  EXPECT_LT(s.iterations, 100) << "converged";
}

TEST(WeightSharing, RefusesWhatCannotBeClustered) {
  EXPECT_FALSE(share_weights({}, 4));
  EXPECT_FALSE(share_weights({1, 2}, 0));
  EXPECT_FALSE(share_weights({1, 2}, 65537));
  const auto nan = share_weights({1, std::nanf(""), 2}, 2);
  ASSERT_FALSE(nan);
  EXPECT_NE(nan.message().find("weight 1 is not finite"), std::string::npos);
  EXPECT_FALSE(share_weights({1, INFINITY}, 2));
}

TEST(Huffman, OptimalLengthsAndCanonicalCodewordsOfTheTextbookExample) {
  // CLRS 16.3: a:45 b:13 c:12 d:16 e:9 f:5 -> a 1 bit, b c d 3 bits, e f 4 bits: 224 bits.
  const std::vector<uint64_t> counts = {45, 13, 12, 16, 9, 5};
  const auto lengths = huffman_lengths(counts).value();
  EXPECT_EQ(lengths, (std::vector<uint8_t>{1, 3, 3, 3, 4, 4}));
  EXPECT_EQ(huffman_bits(counts, lengths), 224u);
  // Canonical: a 0, b 100, c 101, d 110, e 1110, f 1111.
  EXPECT_EQ(huffman_codewords(lengths), (std::vector<uint32_t>{0b0, 0b100, 0b101, 0b110, 0b1110, 0b1111}));
  EXPECT_GE(224.0 / 100, entropy_bits(counts));
  EXPECT_LT(224.0 / 100, entropy_bits(counts) + 1) << "within a bit of the entropy";
  // One symbol, and absent ones.
  EXPECT_EQ(huffman_lengths({0, 7, 0}).value(), (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_FALSE(huffman_lengths({0, 0}));
}

TEST(Huffman, EncodedBitsAreTheCodewordsMostSignificantFirst) {
  const std::vector<uint8_t> lengths = {1, 3, 3, 3, 4, 4};
  Bytes out;
  huffman_encode({5, 0, 1}, lengths, &out);  // 1111 0 100, first bit in the byte's lowest bit
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], 0b00101111);
  size_t used = 0;
  EXPECT_EQ(huffman_decode(out.data(), out.size(), lengths, 3, &used).value(), (std::vector<uint32_t>{5, 0, 1}));
  EXPECT_EQ(used, 1u);
}

TEST(Huffman, RoundTripsSkewedDataWithinOneBitOfTheEntropy) {
  std::mt19937 gen(3);
  std::geometric_distribution<uint32_t> geo(0.3);
  std::vector<uint32_t> symbols(20000);
  std::vector<uint64_t> counts(64, 0);
  for (auto& s : symbols) {
    s = std::min<uint32_t>(geo(gen), 63);
    ++counts[s];
  }
  const auto lengths = huffman_lengths(counts).value();
  ASSERT_TRUE(check_huffman_lengths(lengths));
  Bytes out;
  huffman_encode(symbols, lengths, &out);
  EXPECT_EQ(out.size(), (huffman_bits(counts, lengths) + 7) / 8);
  EXPECT_EQ(huffman_decode(out.data(), out.size(), lengths, symbols.size()).value(), symbols);
  const double per_symbol = static_cast<double>(huffman_bits(counts, lengths)) / symbols.size();
  EXPECT_GE(per_symbol, entropy_bits(counts));
  EXPECT_LT(per_symbol, entropy_bits(counts) + 1);
}

TEST(Huffman, LengthsAreLimitedOnFibonacciCounts) {
  std::vector<uint64_t> fib = {1, 1};
  while (fib.size() < 40) fib.push_back(fib[fib.size() - 1] + fib[fib.size() - 2]);
  const auto capped = huffman_lengths(fib, 30).value();  // unlimited: a 39-deep tree
  EXPECT_LE(*std::max_element(capped.begin(), capped.end()), 30);
  EXPECT_TRUE(check_huffman_lengths(capped));
  const auto limited = huffman_lengths(fib, 8).value();
  EXPECT_LE(*std::max_element(limited.begin(), limited.end()), 8);
  EXPECT_TRUE(check_huffman_lengths(limited));
  EXPECT_FALSE(huffman_lengths(std::vector<uint64_t>(300, 1), 8)) << "300 symbols need 9 bits";
}

TEST(Huffman, MalformedInputIsRefusedWithOneLine) {
  const std::vector<uint8_t> lengths = {1, 3, 3, 3, 4, 4};
  Bytes out;
  huffman_encode({5, 5, 5, 5}, lengths, &out);  // 16 bits: two bytes
  ASSERT_EQ(out.size(), 2u);
  const auto cut = huffman_decode(out.data(), 1, lengths, 4);
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.message().find("the bits end at symbol 2"), std::string::npos) << cut.message();
  EXPECT_FALSE(huffman_decode(out.data(), out.size(), {1, 1, 1}, 1)) << "over-subscribed";
  EXPECT_FALSE(huffman_decode(out.data(), out.size(), {0, 0}, 1)) << "no codes";
  EXPECT_FALSE(huffman_decode(out.data(), out.size(), {31, 1}, 1)) << "too long";
  EXPECT_FALSE(huffman_decode(out.data(), out.size(), lengths, 1000)) << "more symbols than bits";
  // An incomplete code ({1, 2}: 0, 10; 11 is no codeword) meets 11.
  const Bytes ones = {0xff};
  const auto none = huffman_decode(ones.data(), ones.size(), {1, 2}, 1);
  ASSERT_FALSE(none);
  EXPECT_NE(none.message().find("bits end"), std::string::npos) << none.message();
}

// a = 0.5 twice, b = -0.25 four times: the codebook is {b, a}.
DenseMatrix hand_made() {
  const float a = 0.5f, b = -0.25f;
  return {4, 4, {a, 0, a, b,  //
                 0, 0, 0, 0,  //
                 b, b, b, 0,  //
                 a, 0, 0, 0}};
}

TEST(SharedMatrix, FormatsAndOperationCountsOfAHandMadeMatrix) {
  const auto m = hand_made();
  const auto csr = to_csr(m);
  EXPECT_EQ(csr.columns, (std::vector<uint32_t>{0, 2, 3, 0, 1, 2, 0}));
  EXPECT_EQ(csr.row_start, (std::vector<uint32_t>{0, 3, 3, 6, 7}));
  const auto cer = to_cer(m);
  EXPECT_EQ(cer.codebook, (std::vector<float>{-0.25f, 0.5f}));
  // row 0: b {3}, a {0, 2}; row 1: none; row 2: b {0, 1, 2}; row 3: b {} (empty), a {0}
  EXPECT_EQ(cer.columns, (std::vector<uint32_t>{3, 0, 2, 0, 1, 2, 0}));
  EXPECT_EQ(cer.segment_start, (std::vector<uint32_t>{0, 1, 3, 6, 6, 7}));
  EXPECT_EQ(cer.row_start, (std::vector<uint32_t>{0, 2, 2, 3, 5}));
  const auto cser = to_cser(m);  // the empty segment is not there; each names its value
  EXPECT_EQ(cser.segment_start, (std::vector<uint32_t>{0, 1, 3, 6, 7}));
  EXPECT_EQ(cser.value_index, (std::vector<uint32_t>{0, 1, 0, 1}));
  EXPECT_EQ(cser.row_start, (std::vector<uint32_t>{0, 2, 2, 3, 4}));
  // Dense 16 products; CSR one per nonzero (7); CER/CSER one per value a row holds (4).
  // Additions: a row of n stored terms needs n - 1, in every sparse format (2 + 0 + 2 + 0).
  EXPECT_EQ(operations(m).multiplications, 16);
  EXPECT_EQ(operations(m).additions, 12);
  EXPECT_EQ(operations(csr).multiplications, 7);
  EXPECT_EQ(operations(csr).additions, 4);
  for (const auto& shared : {cer, cser}) {
    EXPECT_EQ(operations(shared).multiplications, 4);
    EXPECT_EQ(operations(shared).additions, 4);
  }
  const std::vector<float> x = {1, 2, 4, 8};
  const std::vector<float> y = {0.5f * 5 - 0.25f * 8, 0, -0.25f * 7, 0.5f};
  EXPECT_EQ(multiply(m, x).value(), y);
  EXPECT_EQ(multiply(csr, x).value(), y);
  EXPECT_EQ(multiply(cer, x).value(), y);
  EXPECT_EQ(multiply(cser, x).value(), y);
}

// Random matrices with few distinct values (pruned, then shared): every format gives the
// dense product to within the stated bound (float64 sums, one float32 rounding each), and the
// shared formats need fewer multiplications than CSR.
TEST(SharedMatrix, EveryFormatGivesTheDenseProductOnRandomSharedMatrices) {
  std::mt19937 gen(11);
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t rows = 1 + gen() % 40, cols = 1 + gen() % 60;
    const int distinct = 1 + static_cast<int>(gen() % 8);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> values;
    for (int k = 0; k < distinct; ++k) values.push_back(u(gen));
    DenseMatrix m{rows, cols, {}};
    for (int64_t i = 0; i < rows * cols; ++i) m.values.push_back(gen() % 3 == 0 ? values[gen() % distinct] : 0.0f);
    std::vector<float> x(static_cast<size_t>(cols));
    for (auto& v : x) v = u(gen);
    const auto dense = multiply(m, x).value();
    const auto csr = to_csr(m);
    const auto cer = to_cer(m), cser = to_cser(m);
    ASSERT_TRUE(check(csr) && check(cer) && check(cser));
    for (const auto& y : {multiply(csr, x).value(), multiply(cer, x).value(), multiply(cser, x).value()}) {
      for (int64_t r = 0; r < rows; ++r) {
        double magnitude = 0;
        for (int64_t c = 0; c < cols; ++c) magnitude += std::abs(m.values[r * cols + c] * x[c]);
        const double bound = std::ldexp(std::abs(dense[r]), -23) + cols * std::ldexp(magnitude, -50);
        EXPECT_LE(std::abs(y[r] - dense[r]), bound) << trial << " row " << r;
      }
    }
    EXPECT_LE(operations(cer).multiplications, operations(csr).multiplications);
    EXPECT_EQ(operations(cer).multiplications, operations(cser).multiplications);
    EXPECT_EQ(operations(cer).additions, operations(csr).additions);
  }
}

TEST(SharedMatrix, BrokenIndicesAndPointersAreRefusedNamingTheArray) {
  const std::vector<float> x = {1, 2, 3, 4};
  auto csr = to_csr(hand_made());
  csr.columns[1] = 4;
  EXPECT_NE(multiply(csr, x).message().find("CSR: column index 4 out of range"), std::string::npos);
  auto cer = to_cer(hand_made());
  cer.row_start[2] = 7;
  EXPECT_NE(multiply(cer, x).message().find("CER: row pointers"), std::string::npos);
  auto cser = to_cser(hand_made());
  cser.value_index[0] = 2;
  EXPECT_NE(multiply(cser, x).message().find("CSER: value index 2 out of range"), std::string::npos);
  cser = to_cser(hand_made());
  cser.codebook[0] = std::nanf("");
  EXPECT_NE(multiply(cser, x).message().find("not finite"), std::string::npos);
  cer = to_cer(hand_made());
  cer.segment_start[2] = 0;
  EXPECT_NE(multiply(cer, x).message().find("segment pointers"), std::string::npos);
  EXPECT_NE(multiply(to_cer(hand_made()), {1, 2}).message().find("an input of 2 values for 4 columns"), std::string::npos);
}

}  // namespace
}  // namespace xfed::compression
