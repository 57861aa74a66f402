// Secure aggregation's messages (protocol/secagg_messages.h): each round-trips, and every
// truncation, id out of range, id out of order, wrong length, wrong ring or share point 0 is
// refused.
#include "protocol/secagg_messages.h"

#include <gtest/gtest.h>

#include <functional>

namespace xfed::protocol {
namespace {

const SecAggBounds kBounds{10, 5, 13};

secagg::ShamirShare share(uint8_t x, uint8_t fill) {
  secagg::ShamirShare s;
  s.x = x;
  s.y.fill(fill);
  return s;
}

// None of the proper prefixes of `bytes` reads with `read`; the whole does, last (what
// `read` filled in is the whole's).
void expect_exact(const Bytes& bytes, const std::function<bool(ByteReader&)>& read) {
  for (size_t n = 0; n < bytes.size(); ++n) {
    ByteReader cut(bytes.data(), n);
    EXPECT_FALSE(read(cut)) << "a prefix of " << n << " of " << bytes.size() << " bytes";
  }
  ByteReader whole(bytes);
  EXPECT_TRUE(read(whole));
  EXPECT_TRUE(whole.done());
}

TEST(SecAggMessages, AdvertsRoundTripInClientOrder) {
  std::vector<secagg::KeyAdvert> adverts(3);
  for (int i = 0; i < 3; ++i) {
    adverts[i].client = 2 * i + 1;
    adverts[i].cipher_key.fill(static_cast<uint8_t>(i));
    adverts[i].mask_key.fill(static_cast<uint8_t>(100 + i));
  }
  Bytes b;
  ByteWriter w(&b);
  write_adverts(w, adverts);
  std::vector<secagg::KeyAdvert> back;
  expect_exact(b, [&](ByteReader& r) { return read_adverts(r, kBounds, &back); });
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[2].client, 5);
  EXPECT_EQ(back[2].mask_key, adverts[2].mask_key);
  std::swap(adverts[0], adverts[1]);  // out of order
  Bytes swapped;
  ByteWriter ws(&swapped);
  write_adverts(ws, adverts);
  ByteReader rs(swapped);
  EXPECT_FALSE(read_adverts(rs, kBounds, &back));
  adverts[0].client = 10;  // not below kBounds.clients
  Bytes far;
  ByteWriter wf(&far);
  write_advert(wf, adverts[0]);
  ByteReader rf(far);
  secagg::KeyAdvert one;
  EXPECT_FALSE(read_advert(rf, kBounds, &one));
}

TEST(SecAggMessages, SealedSharesHaveTheirFixedSize) {
  std::vector<secagg::SealedShares> shares{{1, 2, Bytes(secagg::kSealedShareBytes, 7)},
                                           {1, 9, Bytes(secagg::kSealedShareBytes, 8)}};
  Bytes b;
  ByteWriter w(&b);
  write_sealed_shares(w, shares);
  std::vector<secagg::SealedShares> back;
  expect_exact(b, [&](ByteReader& r) { return read_sealed_shares(r, kBounds, &back); });
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].to, 9);
  EXPECT_EQ(back[1].sealed, shares[1].sealed);
}

TEST(SecAggMessages, AMaskedInputTravelsAtTheRingsBits) {
  const secagg::MaskedInput m{4, {0, 1, 8191, 4096, 77}};
  Bytes b;
  ByteWriter w(&b);
  write_masked_input(w, m, 13);
  EXPECT_EQ(b.size(), 1u + 1u + 1u + 9u) << "client, length, ring bits, 5 x 13 bits in 9 bytes";
  secagg::MaskedInput back;
  expect_exact(b, [&](ByteReader& r) { return read_masked_input(r, kBounds, &back); });
  EXPECT_EQ(back.client, 4);
  EXPECT_EQ(back.masked, m.masked);
  ByteReader other_ring(b);
  EXPECT_FALSE(read_masked_input(other_ring, {10, 5, 14}, &back));
  ByteReader other_length(b);
  EXPECT_FALSE(read_masked_input(other_length, {10, 6, 13}, &back));
}

TEST(SecAggMessages, UnmaskRequestsAndRepliesRoundTrip) {
  const secagg::UnmaskRequest q{{0, 3, 4, 9}, {1, 7}};
  Bytes b;
  ByteWriter w(&b);
  write_unmask_request(w, q);
  secagg::UnmaskRequest qb;
  expect_exact(b, [&](ByteReader& r) { return read_unmask_request(r, kBounds, &qb); });
  EXPECT_EQ(qb.survivors, q.survivors);
  EXPECT_EQ(qb.dropped, q.dropped);
  Bytes repeated;
  ByteWriter wr(&repeated);
  write_unmask_request(wr, {{3, 3}, {}});
  ByteReader rr(repeated);
  EXPECT_FALSE(read_unmask_request(rr, kBounds, &qb)) << "a name twice";

  secagg::UnmaskReply a{3, {{0, share(1, 5)}, {4, share(2, 6)}}, {{7, share(3, 9)}}};
  Bytes ab;
  ByteWriter wa(&ab);
  write_unmask_reply(wa, a);
  secagg::UnmaskReply back;
  expect_exact(ab, [&](ByteReader& r) { return read_unmask_reply(r, kBounds, &back); });
  EXPECT_EQ(back.seed_shares.at(4).y, a.seed_shares.at(4).y);
  EXPECT_EQ(back.key_shares.at(7).x, 3);
  a.key_shares[7].x = 0;  // the secret's own point
  Bytes zero;
  ByteWriter wz(&zero);
  write_unmask_reply(wz, a);
  ByteReader rz(zero);
  EXPECT_FALSE(read_unmask_reply(rz, kBounds, &back));
}

}  // namespace
}  // namespace xfed::protocol
