// Shamir t-of-n secret sharing of 32-byte secrets (SecAgg+: each client shares its self-mask
// seed and its mask key among its neighbours, so that the coordinator can recover a dropped
// client's masks — or a surviving one's self-mask — from any t of them). From libgfshare:
// GF(2^8) with the polynomial 0x11d, each byte of the secret shared on its own by a random
// polynomial of degree t-1 whose constant term is that byte; coefficients from the OS's
// random source. Every libgfshare call of xfed lives in secagg/shamir.cc, behind one checking
// helper.
#pragma once

#include <cstdint>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"

namespace xfed::secagg {

struct ShamirShare {
  uint8_t x = 0;   // the point, 1..255
  SecretKey y{};  // the polynomial's value there, byte by byte
};

// The shares of `secret` at the points `xs` (distinct, in 1..255) for threshold t in
// [1, xs.size()]; an error naming what is wrong otherwise.
Result<std::vector<ShamirShare>> shamir_split(const SecretKey& secret, int threshold, const std::vector<uint8_t>& xs);

// The secret from `shares` (distinct points in 1..255, at least the threshold they were made
// with: fewer give a value unrelated to the secret, which no one can tell from the shares).
Result<SecretKey> shamir_combine(const std::vector<ShamirShare>& shares);

}  // namespace xfed::secagg
