// core/crypto.h against the published SHA-256 test vectors (FIPS 180-2, appendix B).
#include "core/crypto.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace xfed
