#include "compression/quantize.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compression/bitpack.h"
#include "compression/half.h"
#include "core/rng.h"

namespace xfed::compression {
namespace {

size_t buckets(size_t k, uint32_t bucket) { return (k + bucket - 1) / bucket; }

// Uniform double in [0, 1) from a counter-based generator (no shared state).
inline double uniform01(uint64_t seed, size_t i) {
  return static_cast<double>(splitmix64(seed + i) >> 11) * 0x1.0p-53;
}

// Per-bucket scale: max |v| (qsgd), mean |v| (sign).
float bucket_scale(ValueCodec codec, const float* v, size_t n) {
  float s = 0;
  if (codec == ValueCodec::kSign) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += std::fabs(v[i]);
    return static_cast<float>(sum / static_cast<double>(n));
  }
  for (size_t i = 0; i < n; ++i) s = std::max(s, std::fabs(v[i]));
  return s;
}

void encode_scaled(const ValueParams& p, const float* v, size_t k, uint64_t seed, Bytes* out,
                   float* recon) {
  ByteWriter w(out);
  const size_t nb = buckets(k, p.bucket);
  std::vector<float> scale(nb);
  for (size_t b = 0; b < nb; ++b) {
    const size_t begin = b * p.bucket, len = std::min<size_t>(p.bucket, k - begin);
    scale[b] = bucket_scale(p.codec, v + begin, len);
    w.put_f32(scale[b]);
  }
  BitWriter bits(out);
  const uint32_t levels = (1u << (p.bits - 1)) - 1;  // qsgd magnitude levels
  for (size_t i = 0; i < k; ++i) {
    const float s = scale[i / p.bucket];
    const bool negative = v[i] < 0;
    if (p.codec == ValueCodec::kSign) {
      bits.put(negative, 1);
      if (recon) recon[i] = negative ? -s : s;
      continue;
    }
    const double x = s > 0 ? std::fabs(v[i]) / s * levels : 0.0;
    uint32_t l = static_cast<uint32_t>(x);
    if (l < levels && uniform01(seed, i) < x - l) ++l;
    bits.put((static_cast<uint64_t>(l) << 1) | negative, p.bits);
    if (recon) recon[i] = (negative ? -1.0f : 1.0f) * s * static_cast<float>(l) / levels;
  }
}

void encode_uniform(const ValueParams& p, const float* v, size_t k, Bytes* out, float* recon) {
  ByteWriter w(out);
  const size_t nb = buckets(k, p.bucket);
  std::vector<float> lo(nb), step(nb);
  const uint32_t top = (1u << p.bits) - 1;
  for (size_t b = 0; b < nb; ++b) {
    const size_t begin = b * p.bucket, len = std::min<size_t>(p.bucket, k - begin);
    const auto [mn, mx] = std::minmax_element(v + begin, v + begin + len);
    lo[b] = *mn;
    step[b] = (*mx - *mn) / static_cast<float>(top);
    w.put_f32(*mn);
    w.put_f32(*mx);
  }
  BitWriter bits(out);
  for (size_t i = 0; i < k; ++i) {
    const size_t b = i / p.bucket;
    const uint32_t c = step[b] > 0 ? std::min<uint32_t>(top, static_cast<uint32_t>(
                                                                 std::lround((v[i] - lo[b]) / step[b])))
                                   : 0;
    bits.put(c, p.bits);
    if (recon) recon[i] = lo[b] + step[b] * static_cast<float>(c);
  }
}

Status decode_scaled(const ValueParams& p, ByteReader& r, size_t k, float* out) {
  const size_t nb = buckets(k, p.bucket);
  std::vector<float> scale(nb);
  for (auto& s : scale)
    if (!r.get_f32(&s) || !std::isfinite(s) || s < 0) return Status::corruption("bad bucket scale");
  const int width = p.codec == ValueCodec::kSign ? 1 : p.bits;
  const uint8_t* data = r.take(packed_bytes(k, width));
  if (!data) return Status::corruption("truncated quantized values");
  BitReader bits(data, packed_bytes(k, width));
  const uint32_t levels = (1u << (p.bits - 1)) - 1;
  for (size_t i = 0; i < k; ++i) {
    uint64_t c = 0;
    (void)bits.get(width, &c);  // length checked above
    const float s = scale[i / p.bucket];
    const float sign = (c & 1) ? -1.0f : 1.0f;
    if (p.codec == ValueCodec::kSign) {
      out[i] = sign * s;
    } else {
      const uint64_t l = c >> 1;
      if (l > levels) return Status::corruption("quantization level out of range");
      out[i] = sign * s * static_cast<float>(l) / levels;
    }
  }
  return Status::ok();
}

Status decode_uniform(const ValueParams& p, ByteReader& r, size_t k, float* out) {
  const size_t nb = buckets(k, p.bucket);
  std::vector<float> lo(nb), step(nb);
  const uint32_t top = (1u << p.bits) - 1;
  for (size_t b = 0; b < nb; ++b) {
    float mn, mx;
    if (!r.get_f32(&mn) || !r.get_f32(&mx) || !std::isfinite(mn) || !std::isfinite(mx) || mx < mn)
      return Status::corruption("bad bucket range");
    lo[b] = mn;
    step[b] = (mx - mn) / static_cast<float>(top);
  }
  const uint8_t* data = r.take(packed_bytes(k, p.bits));
  if (!data) return Status::corruption("truncated quantized values");
  BitReader bits(data, packed_bytes(k, p.bits));
  for (size_t i = 0; i < k; ++i) {
    uint64_t c = 0;
    (void)bits.get(p.bits, &c);
    out[i] = lo[i / p.bucket] + step[i / p.bucket] * static_cast<float>(c);
  }
  return Status::ok();
}

template <typename Encode, typename Decode>
void encode_16(const float* v, size_t k, Bytes* out, float* recon, Encode enc, Decode dec) {
  ByteWriter w(out);
  for (size_t i = 0; i < k; ++i) {
    const uint16_t h = enc(v[i]);
    w.put_u16(h);
    if (recon) recon[i] = dec(h);
  }
}

template <typename Decode>
Status decode_16(ByteReader& r, size_t k, float* out, Decode dec) {
  const uint8_t* p = r.take(2 * k);
  if (!p) return Status::corruption("truncated 16-bit values");
  for (size_t i = 0; i < k; ++i) {
    out[i] = dec(static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
    if (!std::isfinite(out[i])) return Status::corruption("non-finite 16-bit value");
  }
  return Status::ok();
}

}  // namespace

void encode_values(const ValueParams& p, const float* v, size_t k, uint64_t seed, Bytes* out,
                   float* recon) {
  switch (p.codec) {
    case ValueCodec::kFloat32: {
      ByteWriter(out).put_bytes(v, k * sizeof(float));  // little-endian host (CMake check)
      if (recon) std::copy(v, v + k, recon);
      return;
    }
    case ValueCodec::kFp16: return encode_16(v, k, out, recon, float_to_fp16, fp16_to_float);
    case ValueCodec::kBf16: return encode_16(v, k, out, recon, float_to_bf16, bf16_to_float);
    case ValueCodec::kUniform: return encode_uniform(p, v, k, out, recon);
    case ValueCodec::kQsgd:
    case ValueCodec::kSign: return encode_scaled(p, v, k, seed, out, recon);
  }
}

Status decode_values(const ValueParams& p, ByteReader& r, size_t k, float* out) {
  switch (p.codec) {
    case ValueCodec::kFloat32: {
      if (!r.get_bytes(out, k * sizeof(float))) return Status::corruption("truncated float values");
      for (size_t i = 0; i < k; ++i)
        if (!std::isfinite(out[i])) return Status::corruption("non-finite value");
      return Status::ok();
    }
    case ValueCodec::kFp16: return decode_16(r, k, out, fp16_to_float);
    case ValueCodec::kBf16: return decode_16(r, k, out, bf16_to_float);
    case ValueCodec::kUniform: return decode_uniform(p, r, k, out);
    case ValueCodec::kQsgd:
    case ValueCodec::kSign: return decode_scaled(p, r, k, out);
  }
  return Status::corruption("unknown value codec");
}

}  // namespace xfed::compression
