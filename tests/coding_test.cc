#include <gtest/gtest.h>

#include <limits>

#include "core/coding.h"

namespace xfed {
namespace {

TEST(Coding, FixedWidthIsLittleEndian) {
  Bytes b;
  ByteWriter w(&b);
  w.put_u16(0x0102);
  w.put_u32(0x03040506);
  w.put_u64(0x0708090a0b0c0d0eULL);
  EXPECT_EQ(b, (Bytes{0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09,
                      0x08, 0x07}));
  ByteReader r(b);
  uint16_t a;
  uint32_t c;
  uint64_t d;
  ASSERT_TRUE(r.get_u16(&a) && r.get_u32(&c) && r.get_u64(&d));
  EXPECT_EQ(a, 0x0102);
  EXPECT_EQ(c, 0x03040506u);
  EXPECT_EQ(d, 0x0708090a0b0c0d0eULL);
  EXPECT_TRUE(r.done());
}

TEST(Coding, VarintRoundTripAndSizes) {
  const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, (1ULL << 35) + 7,
                             std::numeric_limits<uint64_t>::max()};
  const int sizes[] = {1, 1, 1, 2, 2, 2, 3, 6, 10};
  for (size_t i = 0; i < std::size(values); ++i) {
    Bytes b;
    ByteWriter w(&b);
    w.put_varint(values[i]);
    EXPECT_EQ(static_cast<int>(b.size()), sizes[i]) << values[i];
    EXPECT_EQ(varint_size(values[i]), sizes[i]);
    ByteReader r(b);
    uint64_t v;
    ASSERT_TRUE(r.get_varint(&v));
    EXPECT_EQ(v, values[i]);
  }
  Bytes b300{0xac, 0x02};  // 300 per the protobuf spec
  ByteReader r(b300);
  uint64_t v;
  ASSERT_TRUE(r.get_varint(&v));
  EXPECT_EQ(v, 300u);
}

TEST(Coding, ReaderNeverReadsPastTheEnd) {
  Bytes b{1, 2, 3};
  ByteReader r(b);
  uint32_t v;
  EXPECT_FALSE(r.get_u32(&v));
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(r.take(4), nullptr);
  Bytes unterminated(11, 0x80);  // varint that never ends
  ByteReader r2(unterminated);
  uint64_t x;
  EXPECT_FALSE(r2.get_varint(&x));
  Bytes bad_string{5, 'a', 'b'};  // claims 5 bytes, has 2
  ByteReader r3(bad_string);
  std::string s;
  EXPECT_FALSE(r3.get_string(&s));
}

TEST(Coding, FloatsRoundTripBitExactly) {
  Bytes b;
  ByteWriter w(&b);
  w.put_f32(-1.5f);
  w.put_f64(3.141592653589793);
  ByteReader r(b);
  float f;
  double d;
  ASSERT_TRUE(r.get_f32(&f) && r.get_f64(&d));
  EXPECT_EQ(f, -1.5f);
  EXPECT_EQ(d, 3.141592653589793);
}

TEST(Coding, Crc32MatchesKnownValue) {
  const std::string s = "123456789";  // the CRC-32 check value
  EXPECT_EQ(crc32_of(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0xCBF43926u);
}

}  // namespace
}  // namespace xfed
