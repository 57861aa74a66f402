#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "compression/bitpack.h"
#include "compression/half.h"
#include "compression/index_coding.h"
#include "compression/pipeline.h"
#include "compression/sparsify.h"
#include "compression/state_codec.h"
#include "protocol/messages.h"

namespace xfed::compression {
namespace {

std::vector<float> gaussian(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

Pipeline parse(const std::string& s) { return Pipeline::parse(s).value_or_throw(); }

// Encodes, decodes, and checks that decode == the encoder's reconstruction, bit for bit.
std::vector<float> round_trip(const Pipeline& p, const std::vector<float>& x, Bytes* bytes = nullptr) {
  Bytes b;
  std::vector<float> recon(x.size()), out(x.size(), 123.0f);
  EXPECT_TRUE(p.encode_tensor(x.data(), x.size(), 7, &b, recon.data()));
  ByteReader r(b);
  auto st = p.decode_tensor(r, x.size(), out.data());
  EXPECT_TRUE(st) << st.message();
  EXPECT_TRUE(r.done()) << p.spec();
  EXPECT_TRUE(x.empty() || std::memcmp(out.data(), recon.data(), 4 * x.size()) == 0) << p.spec();
  if (bytes) *bytes = b;
  return out;
}

const char* kPipelines[] = {"none", "fp16", "bf16", "qsgd:8", "qsgd:2:64", "uniform:8", "uniform:1",
                            "sign", "sign:16", "topk:0.1", "topk:0.01,qsgd:4", "randk:0.05,fp16",
                            "threshold:1.5,uniform:4", "dgc:0.01,sign", "zstd", "topk:0.02,sign,zstd:5",
                            "nonzero", "nonzero,qsgd:3:65536,zstd"};

class EveryPipeline : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryPipeline, RoundTripsEmptyOneZerosAndLarge) {
  const auto p = parse(GetParam());
  round_trip(p, {});
  round_trip(p, {-2.5f});
  const auto zeros = round_trip(p, std::vector<float>(1000, 0.0f));
  for (float z : zeros) EXPECT_EQ(z, 0.0f);
  const auto big = gaussian(200'000, 3);  // > the small-tensor path of topk
  const auto out = round_trip(p, big);
  for (float v : out) ASSERT_TRUE(std::isfinite(v));
}

TEST_P(EveryPipeline, RejectsNaNAndInfWithTheirPosition) {
  const auto p = parse(GetParam());
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto x = gaussian(100, 1);
    x[42] = bad;
    Bytes b;
    auto st = p.encode_tensor(x.data(), x.size(), 1, &b, nullptr);
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("value 42 is"), std::string::npos) << st.message();
  }
}

INSTANTIATE_TEST_SUITE_P(All, EveryPipeline, ::testing::ValuesIn(kPipelines),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

TEST(Pipeline, LosslessPipelinesAreExact) {
  const auto x = gaussian(5000, 2);
  EXPECT_EQ(round_trip(parse("none"), x), x);
  EXPECT_EQ(round_trip(parse("zstd:1"), x), x);
}

TEST(Pipeline, ExactByteCounts) {
  Bytes b;
  round_trip(parse("none"), {1, 2, 3}, &b);
  EXPECT_EQ(b.size(), 1u + 12u);  // varint 0 (dense) + 3 floats
  // topk:0.5 of 4 values keeps |-5| and |2| (indices 1, 2): varint k+1, then the smallest
  // index coding (bitmap: 1 coding byte + 1 byte), then 2 floats.
  round_trip(parse("topk:0.5"), {0.1f, -5.0f, 2.0f, 0.3f}, &b);
  EXPECT_EQ(b.size(), 1u + 2u + 8u);
  EXPECT_EQ(b[1], static_cast<uint8_t>(IndexCoding::kBitmap));
  EXPECT_EQ(b[2], 0b0110);
  // qsgd:4 over 1000 dense values: varint 0, 2 bucket scales (512 per bucket), 4 bits each.
  round_trip(parse("qsgd:4"), gaussian(1000, 1), &b);
  EXPECT_EQ(b.size(), 1u + 2 * 4u + 500u);
  // sign over 1000 values: 1 bit each.
  round_trip(parse("sign"), gaussian(1000, 1), &b);
  EXPECT_EQ(b.size(), 1u + 2 * 4u + 125u);
  round_trip(parse("fp16"), gaussian(10, 1), &b);
  EXPECT_EQ(b.size(), 1u + 20u);
}

TEST(Pipeline, Fp16AndBf16ErrorsAreWithinHalfAnUlp) {
  const auto x = gaussian(10000, 4, 10.0f);
  const auto h = round_trip(parse("fp16"), x);
  const auto b = round_trip(parse("bf16"), x);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::fabs(h[i] - x[i]), std::max(std::fabs(x[i]) * 0x1p-11f, 0x1p-25f)) << x[i];
    EXPECT_LE(std::fabs(b[i] - x[i]), std::fabs(x[i]) * 0x1p-8f) << x[i];
  }
  EXPECT_EQ(fp16_to_float(float_to_fp16(1e6f)), 65504.0f) << "saturates, never infinity";
  EXPECT_EQ(fp16_to_float(float_to_fp16(-0.5f)), -0.5f);
  EXPECT_EQ(fp16_to_float(float_to_fp16(1e-7f)), 1.1920928955078125e-07f) << "subnormal";
}

TEST(Pipeline, QsgdIsUnbiased) {
  const auto x = gaussian(512, 5);
  const auto p = parse("qsgd:3");
  std::vector<double> mean(x.size(), 0.0);
  constexpr int kDraws = 4000;
  for (int s = 0; s < kDraws; ++s) {
    Bytes b;
    std::vector<float> recon(x.size());
    ASSERT_TRUE(p.encode_tensor(x.data(), x.size(), 1000 + s, &b, recon.data()));
    for (size_t i = 0; i < x.size(); ++i) mean[i] += recon[i] / kDraws;
  }
  const float scale = *std::max_element(x.begin(), x.end(), [](float a, float b) {
    return std::fabs(a) < std::fabs(b);
  });
  for (size_t i = 0; i < x.size(); ++i)  // per-draw std <= scale/3/2; mean of 4000: ~0.003 scale
    EXPECT_NEAR(mean[i], x[i], 0.015 * std::fabs(scale)) << i;
}

TEST(Pipeline, UniformErrorIsAtMostHalfAStep) {
  const auto x = gaussian(512, 6);
  const auto out = round_trip(parse("uniform:6"), x);
  const auto [mn, mx] = std::minmax_element(x.begin(), x.end());
  const float half_step = (*mx - *mn) / 63 / 2;
  for (size_t i = 0; i < x.size(); ++i) EXPECT_LE(std::fabs(out[i] - x[i]), half_step * 1.0001f);
}

// `nonzero` sends exactly the entries that are not zero, and leaves out those its value codec
// rounds to zero: no index is paid for a value that decodes to nothing.
TEST(Pipeline, NonzeroSendsTheNonzerosAndNoZeroValue) {
  std::vector<float> x(5000, 0.0f);
  std::vector<uint32_t> where;
  for (uint32_t i = 7; i < x.size(); i += 97) {
    x[i] = (i % 3 == 0 ? -1.0f : 1.0f) * (0.01f + static_cast<float>(i % 11));
    where.push_back(i);
  }
  Bytes b;
  EXPECT_EQ(round_trip(parse("nonzero"), x, &b), x) << "fp32 values: exact";
  ByteReader r(b);
  uint64_t k_plus;
  ASSERT_TRUE(r.get_varint(&k_plus));
  EXPECT_EQ(k_plus - 1, where.size());

  // qsgd:2 keeps a value v with probability |v| / max, else rounds it to zero: those go.
  const auto p = parse("nonzero,qsgd:2:100000");
  const auto out = round_trip(p, x, &b);
  size_t sent = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == 0.0f) {
      EXPECT_EQ(out[i], 0.0f);
    }
    sent += out[i] != 0.0f;
  }
  ByteReader q(b);
  ASSERT_TRUE(q.get_varint(&k_plus));
  EXPECT_EQ(k_plus - 1, sent) << "every entry sent decodes to a nonzero";
  EXPECT_LT(sent, where.size()) << "the small values were rounded to zero and left out";
  EXPECT_GT(sent, 0u);
  EXPECT_EQ(parse("nonzero,qsgd:4,zstd").spec(), "nonzero,qsgd:4,zstd:3");
  EXPECT_EQ(parse("nonzero").with_ratio(0.5).spec(), "nonzero");
  EXPECT_FALSE(Pipeline::parse("nonzero:0.5"));
}

TEST(Pipeline, ParseErrorsNameTheFlagAndCanonicalSpecs) {
  for (const char* bad : {"", "topk", "topk:0", "topk:1.5", "qsgd:1", "qsgd:17", "uniform:4:0",
                          "qsgd:4,topk:0.1", "topk:0.1,topk:0.2", "zstd:23", "gzip", "sign:x"}) {
    auto p = Pipeline::parse(bad, "--downlink");
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.message().rfind("--downlink '", 0), 0u) << p.message();
  }
  EXPECT_EQ(parse("topk:0.01,qsgd:4,zstd").spec(), "topk:0.01,qsgd:4,zstd:3");
  EXPECT_EQ(parse("topk:0.01,qsgd:4,zstd").codec_ids(),
            (std::vector<CodecId>{CodecId::kTopK, CodecId::kQsgd, CodecId::kZstd}));
  EXPECT_TRUE(parse("zstd").lossless());
  EXPECT_FALSE(parse("fp16").lossless());
  EXPECT_EQ(parse("topk:0.01,sign").with_ratio(0.04).spec(), "topk:0.04,sign");
  for (const char* out_of_range : {"threshold:1e39", "threshold:nan", "threshold:inf", "topk:nan",
                                    "threshold:-1", "randk:1e-400x"})
    EXPECT_FALSE(Pipeline::parse(out_of_range)) << out_of_range;
}

// A task carries its pipeline in binary at full precision: what the client encodes with is
// exactly what the coordinator parsed (the spec text once lost digits: 1e-7 became 0).
TEST(Pipeline, TravelsInTasksAtFullPrecision) {
  for (const char* spec : {"threshold:1e-7", "topk:0.1234567,qsgd:3:100,zstd:7", "none", "fp16",
                           "randk:0.3333333333333333,sign:64", "dgc:0.001,uniform:1", "nonzero,qsgd:3"}) {
    const auto p = parse(spec);
    EXPECT_EQ(parse(p.spec()), p) << spec << " -> " << p.spec();
    protocol::TrainTask task;
    task.uplink = p;
    Bytes b;
    ByteWriter w(&b);
    task.write(w);
    ByteReader r(b);
    protocol::TrainTask back;
    ASSERT_TRUE(back.read(r)) << spec;
    EXPECT_EQ(back.uplink, p) << spec;
    // Every prefix is refused.
    for (size_t n = 0; n < b.size(); ++n) {
      ByteReader cut(b.data(), n);
      protocol::TrainTask t;
      EXPECT_FALSE(t.read(cut)) << spec << " prefix " << n;
    }
  }
  EXPECT_NE(parse("threshold:1e-7").spec(), "threshold:0");
  // Out-of-range fields are refused, not clamped.
  Bytes bad;
  ByteWriter w(&bad);
  w.put_u8(static_cast<uint8_t>(CodecId::kTopK));
  w.put_f64(std::numeric_limits<double>::quiet_NaN());
  w.put_f32(0);
  w.put_u8(0);
  w.put_u8(32);
  w.put_varint(512);
  w.put_u8(0);
  ByteReader r(bad);
  Pipeline p;
  EXPECT_FALSE(p.read_params(r)) << "NaN ratio";
}

TEST(TopK, PicksExactlyTheKLargestMagnitudes) {
  for (size_t n : {10u, 1000u, 100'000u, 1'000'000u}) {
    auto x = gaussian(n, static_cast<uint32_t>(n));
    for (size_t i = 0; i < n; i += 7) x[i] = 0.5f;  // many ties
    for (size_t k : {size_t{1}, n / 100 + 1, n / 3, n}) {
      const auto idx = topk_indices(x.data(), n, k);
      ASSERT_EQ(idx.size(), k);
      ASSERT_TRUE(std::is_sorted(idx.begin(), idx.end()));
      std::vector<char> chosen(n, 0);
      for (auto i : idx) chosen[i] = 1;
      float min_in = INFINITY, max_out = 0;
      for (size_t i = 0; i < n; ++i)
        (chosen[i] ? min_in : max_out) = chosen[i] ? std::min(min_in, std::fabs(x[i]))
                                                   : std::max(max_out, std::fabs(x[i]));
      EXPECT_GE(min_in, max_out) << "n " << n << " k " << k;
    }
  }
}

TEST(Sparsifiers, RandkIsSeededDistinctAndSorted) {
  const auto a = randk_indices(10000, 300, 9), b = randk_indices(10000, 300, 9);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, randk_indices(10000, 300, 10));
  EXPECT_EQ(a.size(), 300u);
  EXPECT_TRUE(std::adjacent_find(a.begin(), a.end(), std::greater_equal<uint32_t>()) == a.end());
  EXPECT_EQ(threshold_indices(std::vector<float>{1, -3, 0.5f, 3}.data(), 4, 3.0f),
            (std::vector<uint32_t>{1, 3}));
  const auto x = gaussian(500'000, 8);
  const auto d = dgc_topk_indices(x.data(), x.size(), 5000, 1);
  EXPECT_GT(d.size(), 2500u);
  EXPECT_LT(d.size(), 10001u);
}

TEST(IndexCoding, EachCodingRoundTripsAndTheSmallestIsChosen) {
  std::vector<std::vector<uint32_t>> cases = {{0}, {5, 6, 7, 1000}, {}, {99999}};
  std::vector<uint32_t> dense;
  for (uint32_t i = 0; i < 100000; i += 2) dense.push_back(i);  // bitmap wins
  cases.push_back(dense);
  std::vector<uint32_t> sparse;
  for (uint32_t i = 13; i < 100000; i += 997) sparse.push_back(i);  // rice wins
  cases.push_back(sparse);
  for (const auto& idx : cases) {
    Bytes b;
    encode_indices(idx, 100000, &b);
    const int rb = rice_parameter(idx, 100000);
    if (!idx.empty()) {
      EXPECT_EQ(b.size(), std::min({delta_varint_size(idx), bitmap_size(100000), rice_size(idx, rb)}));
    }
    ByteReader r(b);
    std::vector<uint32_t> back;
    ASSERT_TRUE(decode_indices(r, idx.size(), 100000, &back));
    EXPECT_EQ(back, idx);
    EXPECT_TRUE(r.done());
  }
  Bytes b;
  encode_indices(sparse, 100000, &b);
  EXPECT_EQ(b[0], static_cast<uint8_t>(IndexCoding::kRice));
  EXPECT_LT(b.size(), sparse.size() * 12 / 8 + 3) << "about log2(gap) + 1.5 bits an index";
}

TEST(IndexCoding, MalformedInputIsAnError) {
  std::vector<uint32_t> back;
  Bytes out_of_range{0, 10};  // delta-varint, first index 10
  ByteReader r1(out_of_range);
  EXPECT_FALSE(decode_indices(r1, 1, 10, &back));
  Bytes truncated{0, 1};
  ByteReader r2(truncated);
  EXPECT_FALSE(decode_indices(r2, 2, 10, &back));
  Bytes unknown{9, 0};
  ByteReader r3(unknown);
  EXPECT_FALSE(decode_indices(r3, 1, 10, &back));
  Bytes bitmap_count{1, 0b111};  // 3 bits set, 2 expected
  ByteReader r4(bitmap_count);
  EXPECT_FALSE(decode_indices(r4, 2, 8, &back));
  Bytes endless_rice{2, 0, 0xff, 0xff, 0xff};
  ByteReader r5(endless_rice);
  EXPECT_FALSE(decode_indices(r5, 1, 10, &back));
  ByteReader r6(unknown);
  EXPECT_FALSE(decode_indices(r6, 11, 10, &back)) << "k > n";
}

TEST(BitPack, ValuesOfEveryWidthRoundTrip) {
  Bytes b;
  std::mt19937_64 rng(1);
  std::vector<std::pair<uint64_t, int>> written;
  {
    BitWriter w(&b);
    for (int i = 0; i < 2000; ++i) {
      const int bits = 1 + static_cast<int>(rng() % 57);
      const uint64_t v = rng() & ((uint64_t{1} << bits) - 1);
      w.put(v, bits);
      written.push_back({v, bits});
    }
  }
  BitReader r(b.data(), b.size());
  for (const auto& [v, bits] : written) {
    uint64_t got;
    ASSERT_TRUE(r.get(bits, &got));
    ASSERT_EQ(got, v);
  }
  uint64_t extra;
  EXPECT_FALSE(r.get(16, &extra));
}

StateLayout two_tensors() {
  StateLayout l;
  l.add("w", {100, 30}, false);
  l.add("b", {30}, false);
  return l;
}

TEST(StateCodec, RejectsMalformedPayloads) {
  const auto layout = two_tensors();
  const auto x = gaussian(layout.total, 3);
  const auto p = parse("topk:0.1,qsgd:4,zstd");
  Bytes good;
  ASSERT_TRUE(encode_state(layout, x.data(), p, 1, &good));
  std::vector<float> out(layout.total);
  {
    ByteReader r(good);
    ASSERT_TRUE(decode_state(r, layout, p.codec_ids(), out.data()));
  }
  auto expect_error = [&](Bytes b, const std::vector<CodecId>& ids, const char* needle) {
    ByteReader r(b);
    auto st = decode_state(r, layout, ids, out.data());
    ASSERT_FALSE(st) << needle;
    EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
  };
  expect_error(good, {CodecId::kTopK, CodecId::kZstd}, "does not match the frame's codec list");
  expect_error(Bytes(good.begin(), good.end() - 5), p.codec_ids(), "truncated zstd block");
  // (Corruption inside the zstd stream is the frame CRC's job; a broken zstd header is ours.)
  auto broken = good;
  const Bytes magic{0x28, 0xb5, 0x2f, 0xfd};
  auto at = std::search(broken.begin(), broken.end(), magic.begin(), magic.end());
  ASSERT_NE(at, broken.end());
  *at ^= 0xff;
  expect_error(broken, p.codec_ids(), "zstd: not a zstd frame");
  // A body built for another layout.
  StateLayout other;
  other.add("w", {10}, false);
  Bytes wrong;
  ASSERT_TRUE(encode_state(other, x.data(), parse("none"), 1, &wrong));
  expect_error(wrong, {CodecId::kNone}, "state has 1 tensors, expected 2");
  // zstd block claiming an enormous raw size.
  Bytes bomb;
  ByteWriter w(&bomb);
  parse("zstd").write_descriptor(w);
  w.put_varint(uint64_t{1} << 40);
  w.put_varint(4);
  w.put_u32(0);
  expect_error(bomb, {CodecId::kZstd}, "more than any valid state");
}

}  // namespace
}  // namespace xfed::compression
