// core/crypto.h against published test vectors: SHA-256 (FIPS 180-2, appendix B), BLAKE2b
// (RFC 7693 appendix A; the reference blake2b-kat.txt, keyed), ChaCha20 (RFC 8439 A.1).
#include "core/crypto.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace xfed {
namespace {

TEST(Crypto, Sha256GivesThePublishedDigests) {
  EXPECT_EQ(hex_of(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_of(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_of(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex_of(sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Crypto, HexDigestsReadBackAndAnythingElseIsRefused) {
  const auto digest = sha256("abc");
  EXPECT_EQ(sha256_of_hex(hex_of(digest)), digest);
  EXPECT_EQ(sha256_of_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), digest);
  EXPECT_FALSE(sha256_of_hex(""));
  EXPECT_FALSE(sha256_of_hex(hex_of(digest).substr(1)));                 // 63 digits
  EXPECT_FALSE(sha256_of_hex(hex_of(digest) + "0"));                     // 65
  EXPECT_FALSE(sha256_of_hex("g" + hex_of(digest).substr(1)));           // not hex
  EXPECT_FALSE(sha256_of_hex(hex_of(digest).substr(0, 62) + " 0"));      // a space inside
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) out += {digits[p[i] >> 4], digits[p[i] & 15]};
  return out;
}

TEST(Crypto, Blake2bGivesThePublishedDigests) {
  uint8_t out[64];
  blake2b(out, 64, "abc", 3);  // RFC 7693, appendix A
  EXPECT_EQ(hex(out, 64),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc95"
            "18d38aa8dbf1925ab92386edd4009923");
  uint8_t key[64];
  for (int i = 0; i < 64; ++i) key[i] = static_cast<uint8_t>(i);
  blake2b(out, 64, "", 0, key, 64);  // blake2b-kat.txt, keyed, empty input
  EXPECT_EQ(hex(out, 64),
            "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214b005f42d2f"
            "f4233499391653df7aefcbc13fc51568");
}

TEST(Crypto, DerivedSecretsAreKeyedBlake2bOfTheLittleEndianWords) {
  SecretKey key;
  for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i);
  // Python: hashlib.blake2b(bytes(range(3)) + bytes(21), key=bytes(range(32)), digest_size=32)
  const auto derived = derive_secret(key, 0x020100, 0, 0);
  EXPECT_EQ(hex(derived.data(), 32), "5422ead7ef6d1b4745350ba7562de3c393be8a54ec5b5508049df6ddd2cc020f");
  EXPECT_NE(derive_secret(key, 1), derive_secret(key, 2));
  EXPECT_NE(derive_secret(key, 1, 2), derive_secret(key, 1, 0, 2));
}

TEST(Crypto, ChaCha20KeystreamGivesThePublishedBlocks) {
  uint8_t out[80];
  chacha20_keystream(SecretKey{}, out, 64);  // RFC 8439 A.1, test vector 1: zero key, nonce, counter
  EXPECT_EQ(hex(out, 64),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a37"
            "6a43b8f41518a11cc387b669b2ee6586");
  SecretKey key;
  for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i);
  chacha20_keystream(key, out, 80);  // a second block: counter 1 follows counter 0
  EXPECT_EQ(hex(out, 80),
            "39fd2b7dd9c5196a8dbd0377b8dc4a498a35d86fbcde6accb2cc7d4cd8ea24922b23cce7a26023ab3f0eef693ac87f64"
            "258235eab1f7a32dc22762a0485b410c18b84231ade6a6d113615c61af434e27");
}

TEST(Crypto, RandomSecretsDiffer) {
  EXPECT_NE(random_secret(), random_secret());
}

}  // namespace
}  // namespace xfed
