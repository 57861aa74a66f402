// Byte layout helpers: little-endian fixed-width integers, LEB128 varints, and a
// bounds-checked reader.
//
// Everything xfed writes to the wire or to disk goes through these helpers, so the byte
// order is the same on every host. ByteReader never reads past its span: every get returns
// false once the input is exhausted, and the caller turns that into an error naming the
// frame or file. Not thread-safe (a reader/writer is a cursor owned by one caller).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace xfed {

using Bytes = std::vector<uint8_t>;

class ByteWriter {
 public:
  explicit ByteWriter(Bytes* out) : out_(out) {}
  void put_u8(uint8_t v) { out_->push_back(v); }
  void put_u16(uint16_t v) { put_le(v, 2); }
  void put_u32(uint32_t v) { put_le(v, 4); }
  void put_u64(uint64_t v) { put_le(v, 8); }
  void put_f32(float v);
  void put_f64(double v);
  void put_varint(uint64_t v);
  void put_bytes(const void* data, size_t n);
  // Length-prefixed (varint) string.
  void put_string(const std::string& s);
  size_t size() const { return out_->size(); }

 private:
  void put_le(uint64_t v, int n);
  Bytes* out_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit ByteReader(const Bytes& b) : ByteReader(b.data(), b.size()) {}

  [[nodiscard]] bool get_u8(uint8_t* v);
  [[nodiscard]] bool get_u16(uint16_t* v);
  [[nodiscard]] bool get_u32(uint32_t* v);
  [[nodiscard]] bool get_u64(uint64_t* v);
  [[nodiscard]] bool get_f32(float* v);
  [[nodiscard]] bool get_f64(double* v);
  [[nodiscard]] bool get_varint(uint64_t* v);
  [[nodiscard]] bool get_bytes(void* dst, size_t n);
  // Returns a pointer to the next n bytes without copying, or nullptr if fewer remain.
  [[nodiscard]] const uint8_t* take(size_t n);
  [[nodiscard]] bool get_string(std::string* s, size_t max_len = 1 << 20);

  size_t remaining() const { return size_ - pos_; }
  size_t position() const { return pos_; }
  bool done() const { return pos_ == size_; }

 private:
  [[nodiscard]] bool get_le(uint64_t* v, int n);
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Number of bytes put_varint(v) writes.
int varint_size(uint64_t v);

// CRC-32 (zlib polynomial) of a byte range.
uint32_t crc32_of(const uint8_t* data, size_t n);

}  // namespace xfed
