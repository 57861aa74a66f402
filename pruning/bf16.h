// bfloat16 in the statistics of float32 activations.
//
// ClassStats rounds float32 activations to bfloat16 (ATen's round to nearest even: 8
// significant bits, the float32 exponent range) before it accumulates them. Products of two
// bfloat16 values are exact in float32, so the Gram matrix of the rounded values can run on
// bf16 matrix units (AMX, AVX512-BF16: pruning/bf16_gram.h) or on float32 BLAS and give the
// same numbers up to float32 summation order; the class sums add the same rounded values,
// so the statistics are exactly those of the rounded activations. Rounding moves a value
// by at most 2^-9 of itself, and DI scores by well under 1 % (tests/di_test.cc): far below
// the sampling noise of a stats round.
#pragma once

#include <cstdint>
#include <cstring>

namespace xfed::pruning {

inline float bf16_to_float(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace xfed::pruning
