// Numbers in a ring (secure aggregation): masks cancel only in modular integer arithmetic,
// so each client turns its float values into integers of `bits` bits, the coordinator sums
// them (and the masks) modulo 2^32 and turns the sum back into floats.
//
// A value v is clipped to [-R, R] (R announced by the coordinator), mapped to
// (v + R) / (2R) · (2^bits − 1) in [0, 2^bits − 1] and rounded stochastically (up with
// probability equal to the fraction, from the client's secret keystream: unbiased). The sum
// of n such integers is at most n·(2^bits − 1), which fits in 32 bits — so the modular sum
// is the true sum and never wraps — exactly when n ≤ max_summands(bits); the coordinator
// refuses a round with more. Decoding: Σv ≈ S·2R/(2^bits − 1) − n·R, exact up to the
// rounding (at most one step 2R/(2^bits − 1) per value, zero on average).
#pragma once

#include <cstdint>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"

namespace xfed::secagg {

struct FixedPoint {
  double range = 1.0;  // R: values clipped to [-R, R]
  int bits = 16;       // per value, in [1, 31]

  // A usage error unless R is finite and positive and bits in [1, 31].
  Status check() const;
  double step() const;  // 2R / (2^bits − 1)
  // The most clients whose values add up without passing 2^32: ⌊(2^32 − 1) / (2^bits − 1)⌋.
  uint64_t max_summands() const;
};

// Each value clipped, scaled and rounded up with probability its fraction: the uniforms from
// the keystream of `key` (one per value). NaN counts as 0 (the caller refuses NaN before).
std::vector<uint32_t> encode(const std::vector<float>& values, const FixedPoint& fp, const SecretKey& key);
// Σ of `summands` clients' values from the sum of their encodings.
std::vector<double> decode_sum(const std::vector<uint32_t>& sum, const FixedPoint& fp, uint64_t summands);

}  // namespace xfed::secagg
