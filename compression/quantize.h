// Value codecs: how the selected values (all of them, or the sparsifier's k) are written.
//
//   kFloat32   4 bytes each
//   kFp16/Bf16 2 bytes each (round to nearest even)
//   kQsgd      B bits each (1 sign + B-1 magnitude bits, s = 2^(B-1) - 1 levels), per bucket
//              a float scale = max |v|; magnitudes rounded stochastically, so
//              E[decode] = v (unbiased). The l-inf scale is a variant of QSGD's l2 norm
//              with much lower variance at few bits.
//   kUniform   B bits each, per bucket float min and max, round to nearest (deterministic)
//   kSign      1 bit each, per bucket scale = mean |v| (EF-signSGD, Karimireddy et al. 2019)
// Layout: the per-bucket scales (floats) first, then all codes bit-packed.
// `reconstructed` (k floats, may be null) receives exactly what decode will produce.
#pragma once

#include <cstdint>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::compression {

enum class ValueCodec : uint8_t { kFloat32, kFp16, kBf16, kQsgd, kUniform, kSign };

struct ValueParams {
  ValueCodec codec = ValueCodec::kFloat32;
  int bits = 32;
  uint32_t bucket = 512;
};

void encode_values(const ValueParams& p, const float* v, size_t k, uint64_t seed, Bytes* out,
                   float* reconstructed);
Status decode_values(const ValueParams& p, ByteReader& r, size_t k, float* out);

}  // namespace xfed::compression
