// Shamir sharing (secagg/shamir.h) against an independent GF(2^8) written here: the field of
// libgfshare (x^8 + x^4 + x^3 + x^2 + 1, 0x11d), Lagrange interpolation at 0 of hand-made
// polynomials and of the library's own shares; any t shares recover the secret, t-1 do not.
#include "secagg/shamir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace xfed::secagg {
namespace {

uint8_t gf_mul(uint8_t a, uint8_t b) {  // Russian-peasant multiplication modulo 0x11d
  unsigned p = 0, x = a;
  for (; b; b >>= 1) {
    if (b & 1) p ^= x;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  return static_cast<uint8_t>(p);
}

uint8_t gf_inv(uint8_t a) {  // a^254
  uint8_t r = 1;
  for (int i = 0; i < 254; ++i) r = gf_mul(r, a);
  return r;
}

// f(x) = Σ c_k x^k, byte by byte.
SecretKey evaluate(const std::vector<SecretKey>& coefficients, uint8_t x) {
  SecretKey y{};
  for (size_t byte = 0; byte < y.size(); ++byte) {
    uint8_t acc = 0, power = 1;
    for (const auto& c : coefficients) {
      acc ^= gf_mul(c[byte], power);
      power = gf_mul(power, x);
    }
    y[byte] = acc;
  }
  return y;
}

// f(0) from points, by Lagrange: Σ y_i Π_{j≠i} x_j / (x_j − x_i), subtraction being XOR.
SecretKey interpolate_at_zero(const std::vector<ShamirShare>& shares) {
  SecretKey s{};
  for (size_t i = 0; i < shares.size(); ++i) {
    uint8_t l = 1;
    for (size_t j = 0; j < shares.size(); ++j)
      if (j != i) l = gf_mul(l, gf_mul(shares[j].x, gf_inv(shares[j].x ^ shares[i].x)));
    for (size_t byte = 0; byte < s.size(); ++byte) s[byte] ^= gf_mul(shares[i].y[byte], l);
  }
  return s;
}

SecretKey counting(uint8_t from) {
  SecretKey k;
  std::iota(k.begin(), k.end(), from);
  return k;
}

TEST(Shamir, CombinesHandMadeSharesOfAKnownPolynomial) {
  const std::vector<SecretKey> f{counting(7), counting(100), counting(201)};  // degree 2: t = 3
  std::vector<ShamirShare> shares;
  for (uint8_t x : {3, 77, 250}) shares.push_back({x, evaluate(f, x)});
  const auto secret = shamir_combine(shares);
  ASSERT_TRUE(secret) << secret.message();
  EXPECT_EQ(secret.value(), counting(7));
  EXPECT_EQ(interpolate_at_zero(shares), counting(7));
}

TEST(Shamir, AnyThresholdOfTheSharesGivesTheSecretAndFewerDoNot) {
  const SecretKey secret = random_secret();
  std::vector<uint8_t> xs(9);
  std::iota(xs.begin(), xs.end(), 1);
  const int t = 4;
  const auto shares = shamir_split(secret, t, xs);
  ASSERT_TRUE(shares) << shares.message();
  ASSERT_EQ(shares.value().size(), 9u);
  // Every 4-subset, by the library and by the interpolation written here.
  std::vector<bool> pick(9, false);
  std::fill(pick.begin(), pick.begin() + t, true);
  int subsets = 0;
  do {
    std::vector<ShamirShare> some;
    for (size_t i = 0; i < 9; ++i)
      if (pick[i]) some.push_back(shares.value()[i]);
    EXPECT_EQ(shamir_combine(some).value(), secret);
    EXPECT_EQ(interpolate_at_zero(some), secret);
    ++subsets;
  } while (std::prev_permutation(pick.begin(), pick.end()));
  EXPECT_EQ(subsets, 126);
  // More than t: still the secret (the points lie on one polynomial of degree t-1).
  EXPECT_EQ(shamir_combine(shares.value()).value(), secret);
  // t-1 shares: a value unrelated to the secret.
  const std::vector<ShamirShare> three(shares.value().begin(), shares.value().begin() + 3);
  EXPECT_NE(shamir_combine(three).value(), secret);
}

TEST(Shamir, TwoSplitsOfOneSecretDrawOtherCoefficients) {
  const SecretKey secret = counting(1);
  const auto a = shamir_split(secret, 2, {1, 2}).value(), b = shamir_split(secret, 2, {1, 2}).value();
  EXPECT_NE(a[0].y, b[0].y);
  EXPECT_EQ(shamir_combine(a).value(), shamir_combine(b).value());
  // threshold 1: every share is the secret.
  const auto ones = shamir_split(secret, 1, {5, 6}).value();
  for (const auto& s : ones) EXPECT_EQ(s.y, secret);
}

TEST(Shamir, BadPointsAndThresholdsAreErrors) {
  const SecretKey s{};
  EXPECT_FALSE(shamir_split(s, 2, {0, 1}));
  EXPECT_FALSE(shamir_split(s, 2, {3, 3}));
  EXPECT_FALSE(shamir_split(s, 3, {1, 2}));
  EXPECT_FALSE(shamir_split(s, 0, {1, 2}));
  EXPECT_FALSE(shamir_split(s, 1, {}));
  EXPECT_FALSE(shamir_combine({}));
  EXPECT_FALSE(shamir_combine({{4, s}, {4, s}}));
  EXPECT_FALSE(shamir_combine({{0, s}}));
  const auto error = shamir_split(s, 2, {9, 9});
  EXPECT_NE(error.message().find("point 9 twice"), std::string::npos) << error.message();
}

}  // namespace
}  // namespace xfed::secagg
