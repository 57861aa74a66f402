#include "compression/bitpack.h"

#include <algorithm>

namespace xfed::compression {

void BitWriter::put(uint64_t value, int bits) {
  acc_ |= (value & ((uint64_t{1} << bits) - 1)) << used_;
  used_ += bits;
  while (used_ >= 8) {
    out_->push_back(static_cast<uint8_t>(acc_));
    acc_ >>= 8;
    used_ -= 8;
  }
}

void BitWriter::flush() {
  if (used_ > 0) out_->push_back(static_cast<uint8_t>(acc_));
  acc_ = 0;
  used_ = 0;
}

bool BitReader::get(int bits, uint64_t* value) {
  if (bit_pos_ + static_cast<size_t>(bits) > size_ * 8) return false;
  uint64_t v = 0;
  int got = 0;
  while (got < bits) {
    const size_t byte = bit_pos_ / 8;
    const int offset = static_cast<int>(bit_pos_ % 8);
    const int take = std::min(8 - offset, bits - got);
    v |= static_cast<uint64_t>((data_[byte] >> offset) & ((1u << take) - 1)) << got;
    got += take;
    bit_pos_ += take;
  }
  *value = v;
  return true;
}

}  // namespace xfed::compression
