#include "compression/index_coding.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "compression/bitpack.h"

namespace xfed::compression {
namespace {

constexpr int kMaxRiceParameter = 31;
constexpr uint64_t kMaxUnary = 1 << 20;  // a longer unary run is malformed input

inline uint64_t gap(const std::vector<uint32_t>& idx, size_t i) {
  return i == 0 ? idx[0] : idx[i] - idx[i - 1] - 1;
}

void put_delta_varint(const std::vector<uint32_t>& idx, Bytes* out) {
  ByteWriter w(out);
  for (size_t i = 0; i < idx.size(); ++i) w.put_varint(gap(idx, i));
}

void put_bitmap(const std::vector<uint32_t>& idx, uint64_t n, Bytes* out) {
  const size_t start = out->size();
  out->resize(start + (n + 7) / 8, 0);
  for (auto i : idx) (*out)[start + i / 8] |= static_cast<uint8_t>(1u << (i % 8));
}

void put_rice(const std::vector<uint32_t>& idx, int b, Bytes* out) {
  BitWriter bits(out);
  for (size_t i = 0; i < idx.size(); ++i) {
    const uint64_t g = gap(idx, i);
    for (uint64_t q = g >> b; q > 0;) {  // unary quotient: q ones, then a zero
      const int run = static_cast<int>(std::min<uint64_t>(q, 32));
      bits.put((uint64_t{1} << run) - 1, run);
      q -= run;
    }
    bits.put(0, 1);
    if (b > 0) bits.put(g & ((uint64_t{1} << b) - 1), b);
  }
}

Status check_next(uint64_t value, uint64_t prev_plus_one, uint64_t n, uint64_t* out) {
  const uint64_t index = prev_plus_one + value;
  if (value >= n || index >= n) return Status::corruption("index out of range");
  *out = index;
  return Status::ok();
}

Status get_delta_varint(ByteReader& r, uint64_t k, uint64_t n, std::vector<uint32_t>* idx) {
  uint64_t next = 0;
  for (uint64_t i = 0; i < k; ++i) {
    uint64_t g, index;
    if (!r.get_varint(&g)) return Status::corruption("truncated index list");
    if (auto st = check_next(g, next, n, &index); !st) return st;
    idx->push_back(static_cast<uint32_t>(index));
    next = index + 1;
  }
  return Status::ok();
}

Status get_bitmap(ByteReader& r, uint64_t k, uint64_t n, std::vector<uint32_t>* idx) {
  const uint8_t* p = r.take((n + 7) / 8);
  if (!p) return Status::corruption("truncated index bitmap");
  for (uint64_t i = 0; i < n; ++i)
    if (p[i / 8] >> (i % 8) & 1) idx->push_back(static_cast<uint32_t>(i));
  if (idx->size() != k) return Status::corruption("index bitmap holds " + std::to_string(idx->size()) +
                                             " indices, expected " + std::to_string(k));
  return Status::ok();
}

Status get_rice(ByteReader& r, uint64_t k, uint64_t n, std::vector<uint32_t>* idx) {
  uint8_t b;
  if (!r.get_u8(&b) || b > kMaxRiceParameter) return Status::corruption("bad Rice parameter");
  BitReader br(r.take(0), r.remaining());  // take(0): the current position, consumes nothing
  uint64_t next = 0;
  for (uint64_t i = 0; i < k; ++i) {
    uint64_t q = 0, bit = 1, rem = 0, index;
    while (true) {
      if (!br.get(1, &bit)) return Status::corruption("truncated Rice code");
      if (!bit) break;
      if (++q > kMaxUnary) return Status::corruption("malformed Rice code");
    }
    if (b > 0 && !br.get(b, &rem)) return Status::corruption("truncated Rice code");
    if (auto st = check_next((q << b) | rem, next, n, &index); !st) return st;
    idx->push_back(static_cast<uint32_t>(index));
    next = index + 1;
  }
  (void)r.take(br.bytes_used());  // cannot fail: br read within r's remaining bytes
  return Status::ok();
}

}  // namespace

size_t delta_varint_size(const std::vector<uint32_t>& idx) {
  size_t s = 1;
  for (size_t i = 0; i < idx.size(); ++i) s += varint_size(gap(idx, i));
  return s;
}

size_t bitmap_size(uint64_t n) { return 1 + (n + 7) / 8; }

size_t rice_size(const std::vector<uint32_t>& idx, int b) {
  uint64_t bits = 0;
  for (size_t i = 0; i < idx.size(); ++i) bits += (gap(idx, i) >> b) + 1 + b;
  return 2 + (bits + 7) / 8;
}

int rice_parameter(const std::vector<uint32_t>& idx, uint64_t n) {
  if (idx.empty()) return 0;
  const double mean_gap = static_cast<double>(n) / static_cast<double>(idx.size());
  const int b = static_cast<int>(std::floor(std::log2(std::max(1.0, mean_gap * 0.69))));
  return std::clamp(b, 0, kMaxRiceParameter);
}

void encode_indices(const std::vector<uint32_t>& idx, uint64_t n, Bytes* out) {
  if (idx.empty()) return;  // the decoder reads nothing for k = 0
  const int b = rice_parameter(idx, n);
  const size_t varint = delta_varint_size(idx), bitmap = bitmap_size(n), rice = rice_size(idx, b);
  if (rice < varint && rice < bitmap) {
    out->push_back(static_cast<uint8_t>(IndexCoding::kRice));
    out->push_back(static_cast<uint8_t>(b));
    put_rice(idx, b, out);
  } else if (bitmap < varint) {
    out->push_back(static_cast<uint8_t>(IndexCoding::kBitmap));
    put_bitmap(idx, n, out);
  } else {
    out->push_back(static_cast<uint8_t>(IndexCoding::kDeltaVarint));
    put_delta_varint(idx, out);
  }
}

Status decode_indices(ByteReader& r, uint64_t k, uint64_t n, std::vector<uint32_t>* idx) {
  idx->clear();
  if (k > n) return Status::corruption("more indices than values");
  if (k == 0) return Status::ok();
  uint8_t coding;
  if (!r.get_u8(&coding)) return Status::corruption("truncated index coding");
  idx->reserve(k);
  switch (static_cast<IndexCoding>(coding)) {
    case IndexCoding::kDeltaVarint: return get_delta_varint(r, k, n, idx);
    case IndexCoding::kBitmap: return get_bitmap(r, k, n, idx);
    case IndexCoding::kRice: return get_rice(r, k, n, idx);
  }
  return Status::corruption("unknown index coding " + std::to_string(coding));
}

}  // namespace xfed::compression
