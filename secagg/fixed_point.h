// Numbers in a ring (secure aggregation): masks cancel only in modular integer arithmetic,
// so each client turns its float values into integers of `bits` bits, the coordinator sums
// them (and the masks) modulo 2^m (m = ring_bits, what a masked value costs on the wire) and
// turns the sum back into floats.
//
// A value v is clipped to [-R, R] (R announced by the coordinator), mapped to
// (v + R) / (2R) · (2^bits − 1) in [0, 2^bits − 1] and rounded stochastically (up with
// probability equal to the fraction, from the client's secret keystream: unbiased). The sum
// of n such integers is at most n·(2^bits − 1), which is below 2^m — so the modular sum is
// the true sum and never wraps — exactly when n ≤ max_summands(); the coordinator refuses a
// round with more. m = bits + ⌈log2 n⌉ is the least that n clients need. Decoding: Σv ≈ S·2R/(2^bits − 1) − n·R, exact up to the
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
  int ring_bits = 32;  // m: sums and masks modulo 2^m, in [bits, 32]

  // A usage error unless R is finite and positive, bits in [1, 31], ring_bits in [bits, 32].
  Status check() const;
  double step() const;  // 2R / (2^bits − 1)
  // The most clients whose values add up without reaching 2^m: ⌊(2^m − 1) / (2^bits − 1)⌋.
  uint64_t max_summands() const;
  uint32_t ring_mask() const;  // 2^m − 1
};

// Each value clipped, scaled and rounded up with probability its fraction: the uniforms from
// the keystream of `key` (one per value). NaN counts as 0 (the caller refuses NaN before).
std::vector<uint32_t> encode(const std::vector<float>& values, const FixedPoint& fp, const SecretKey& key);
// The same for float64 values (no float32 rounding before the grid's).
std::vector<uint32_t> encode_f64(const std::vector<double>& values, const FixedPoint& fp, const SecretKey& key);
// Σ of `summands` clients' values from the sum of their encodings.
std::vector<double> decode_sum(const std::vector<uint32_t>& sum, const FixedPoint& fp, uint64_t summands);

}  // namespace xfed::secagg
