// IEEE half (fp16) and bfloat16 conversions with round-to-nearest-even, torch-free.
// Inputs are finite (the pipeline rejects NaN/Inf first); fp16 overflow saturates to
// +-65504 rather than producing infinity, so a decoded update is always finite.
#pragma once

#include <cstdint>
#include <cstring>

namespace xfed::compression {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t float_to_bf16(float f) {
  const uint32_t u = float_bits(f);
  const uint32_t rounding = 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>((u + rounding) >> 16);
}
inline float bf16_to_float(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

uint16_t float_to_fp16(float f);
float fp16_to_float(uint16_t h);

}  // namespace xfed::compression
