// Bit-level packing: values of 1..32 bits written LSB-first into bytes. BitReader is
// bounds-checked like ByteReader: a read past the end returns false.
#pragma once

#include <cstdint>

#include "core/coding.h"

namespace xfed::compression {

class BitWriter {
 public:
  explicit BitWriter(Bytes* out) : out_(out) {}
  ~BitWriter() { flush(); }
  void put(uint64_t value, int bits);  // bits in [1, 57]
  // Pads to a whole byte. Called by the destructor; call it before using out.
  void flush();

 private:
  Bytes* out_;
  uint64_t acc_ = 0;
  int used_ = 0;
};

class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  [[nodiscard]] bool get(int bits, uint64_t* value);  // bits in [1, 57]
  // Bytes consumed so far, counting a partly read byte as consumed.
  size_t bytes_used() const { return (bit_pos_ + 7) / 8; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t bit_pos_ = 0;
};

// Bytes needed to hold n values of `bits` bits.
inline size_t packed_bytes(size_t n, int bits) { return (n * static_cast<size_t>(bits) + 7) / 8; }

}  // namespace xfed::compression
