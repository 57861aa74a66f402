// X25519, the agreed key and ChaCha20-Poly1305 (core/key_agreement.h) against published
// vectors: RFC 7748 section 6.1, RFC 8439 section 2.8.2, and the agreed key's BLAKE2b
// computed by Python's hashlib over the RFC 7748 keys.
#include "core/key_agreement.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xfed {
namespace {

std::vector<uint8_t> bytes_of(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

template <size_t N>
std::array<uint8_t, N> array_of(const std::string& hex) {
  const auto b = bytes_of(hex);
  std::array<uint8_t, N> out{};
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) out += {digits[p[i] >> 4], digits[p[i] & 15]};
  return out;
}

// RFC 7748, section 6.1.
const auto kAliceSecret = array_of<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const auto kAlicePublic = array_of<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
const auto kBobSecret = array_of<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const auto kBobPublic = array_of<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
const std::string kShared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

TEST(KeyAgreement, X25519GivesTheRfc7748Vectors) {
  EXPECT_EQ(x25519_public_key(kAliceSecret), kAlicePublic);
  EXPECT_EQ(x25519_public_key(kBobSecret), kBobPublic);
  const auto ab = x25519(kAliceSecret, kBobPublic), ba = x25519(kBobSecret, kAlicePublic);
  ASSERT_TRUE(ab && ba);
  EXPECT_EQ(hex(ab->data(), 32), kShared);
  EXPECT_EQ(*ab, *ba);
}

TEST(KeyAgreement, BothSidesAgreeOnOneKeyBoundToBothPublicKeys) {
  const KeyPair alice{kAlicePublic, kAliceSecret}, bob{kBobPublic, kBobSecret};
  const auto a = agreed_key(alice, bob.public_key), b = agreed_key(bob, alice.public_key);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  // BLAKE2b-256(K || min(pk) || max(pk)), by Python's hashlib.
  EXPECT_EQ(hex(a->data(), 32), "519fb3af2f3f9e310718cf1f8bdec6e26ab64affe730f0f8b43c43b0e8ee52be");
  const auto fresh = x25519_keypair();
  EXPECT_EQ(x25519_public_key(fresh.secret_key), fresh.public_key);
  EXPECT_NE(*agreed_key(alice, fresh.public_key), *a);
  EXPECT_NE(x25519_keypair().secret_key, fresh.secret_key);
}

TEST(KeyAgreement, ALowOrderPublicKeyGivesNoKey) {
  const PublicKey zero{};  // the identity: any secret times it is zero
  PublicKey one{};
  one[0] = 1;
  EXPECT_FALSE(x25519(kAliceSecret, zero));
  EXPECT_FALSE(x25519(kAliceSecret, one));
  EXPECT_FALSE(agreed_key({kAlicePublic, kAliceSecret}, zero));
}

TEST(Seal, ChaCha20Poly1305GivesTheRfc8439Vector) {
  SecretKey key;
  for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(0x80 + i);
  const auto nonce = array_of<12>("070000004041424344454647");
  const auto ad = bytes_of("50515253c0c1c2c3c4c5c6c7");
  const std::string text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
  const std::vector<uint8_t> plain(text.begin(), text.end());
  const auto sealed = seal(key, nonce, plain.data(), plain.size(), ad.data(), ad.size());
  EXPECT_EQ(hex(sealed.data(), sealed.size()),
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e"
            "060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576"
            "d26586cec64b6116"
            "1ae10b594f09e26a7e902ecbd0600691");  // the tag
  const auto opened = open_sealed(key, nonce, sealed.data(), sealed.size(), ad.data(), ad.size());
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, plain);
}

TEST(Seal, AnythingChangedFailsToOpen) {
  const SecretKey key = random_secret();
  const std::vector<uint8_t> plain{1, 2, 3, 4, 5}, ad{9, 9};
  const auto sealed = seal(key, nonce_of(7), plain.data(), plain.size(), ad.data(), ad.size());
  ASSERT_EQ(sealed.size(), plain.size() + kSealOverhead);
  EXPECT_TRUE(open_sealed(key, nonce_of(7), sealed.data(), sealed.size(), ad.data(), ad.size()));
  for (size_t i = 0; i < sealed.size(); ++i) {
    auto bad = sealed;
    bad[i] ^= 1;
    EXPECT_FALSE(open_sealed(key, nonce_of(7), bad.data(), bad.size(), ad.data(), ad.size())) << i;
  }
  EXPECT_FALSE(open_sealed(key, nonce_of(8), sealed.data(), sealed.size(), ad.data(), ad.size()));
  EXPECT_FALSE(open_sealed(random_secret(), nonce_of(7), sealed.data(), sealed.size(), ad.data(), ad.size()));
  const std::vector<uint8_t> other_ad{9, 8};
  EXPECT_FALSE(open_sealed(key, nonce_of(7), sealed.data(), sealed.size(), other_ad.data(), other_ad.size()));
  EXPECT_FALSE(open_sealed(key, nonce_of(7), sealed.data(), kSealOverhead - 1));  // shorter than a tag
  EXPECT_FALSE(open_sealed(key, nonce_of(7), sealed.data(), sealed.size() - 1, ad.data(), ad.size()));
  EXPECT_EQ(nonce_of(0x0102030405060708ull)[0], 0x08);
  EXPECT_EQ(nonce_of(0x0102030405060708ull)[7], 0x01);
  EXPECT_EQ(nonce_of(0x0102030405060708ull)[8], 0);
}

}  // namespace
}  // namespace xfed
