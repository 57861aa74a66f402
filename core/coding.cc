#include "core/coding.h"

#include <zlib.h>

#include <algorithm>

namespace xfed {

void ByteWriter::put_le(uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out_->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteWriter::put_f32(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  put_u32(u);
}

void ByteWriter::put_f64(double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  put_u64(u);
}

void ByteWriter::put_varint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<uint8_t>(v));
}

void ByteWriter::put_bytes(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  out_->insert(out_->end(), p, p + n);
}

void ByteWriter::put_string(const std::string& s) {
  put_varint(s.size());
  put_bytes(s.data(), s.size());
}

bool ByteReader::get_le(uint64_t* v, int n) {
  if (remaining() < static_cast<size_t>(n)) return false;
  uint64_t r = 0;
  for (int i = 0; i < n; ++i) r |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
  pos_ += n;
  *v = r;
  return true;
}

bool ByteReader::get_u8(uint8_t* v) {
  uint64_t r;
  if (!get_le(&r, 1)) return false;
  *v = static_cast<uint8_t>(r);
  return true;
}

bool ByteReader::get_u16(uint16_t* v) {
  uint64_t r;
  if (!get_le(&r, 2)) return false;
  *v = static_cast<uint16_t>(r);
  return true;
}

bool ByteReader::get_u32(uint32_t* v) {
  uint64_t r;
  if (!get_le(&r, 4)) return false;
  *v = static_cast<uint32_t>(r);
  return true;
}

bool ByteReader::get_u64(uint64_t* v) { return get_le(v, 8); }

bool ByteReader::get_f32(float* v) {
  uint32_t u;
  if (!get_u32(&u)) return false;
  std::memcpy(v, &u, 4);
  return true;
}

bool ByteReader::get_f64(double* v) {
  uint64_t u;
  if (!get_u64(&u)) return false;
  std::memcpy(v, &u, 8);
  return true;
}

bool ByteReader::get_varint(uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= size_) return false;
    const uint8_t byte = data_[pos_++];
    r |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = r;
      return true;
    }
  }
  return false;  // more than 10 bytes: not a valid 64-bit varint
}

bool ByteReader::get_bytes(void* dst, size_t n) {
  const uint8_t* p = take(n);
  if (!p) return false;
  if (n > 0) std::memcpy(dst, p, n);  // dst may be null for an empty range (memcpy: UB)
  return true;
}

const uint8_t* ByteReader::take(size_t n) {
  if (remaining() < n) return nullptr;
  const uint8_t* p = data_ + pos_;
  pos_ += n;
  return p;
}

bool ByteReader::get_string(std::string* s, size_t max_len) {
  uint64_t n;
  if (!get_varint(&n) || n > max_len || n > remaining()) return false;
  s->assign(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n;
  return true;
}

int varint_size(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

uint32_t crc32_of(const uint8_t* data, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large ranges in chunks.
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, data, chunk);
    data += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace xfed
