// For fuzz targets of files that are one frame (checkpoint, saved model): rewrites the
// frame's payload CRC so that mutations reach the payload's decoder instead of stopping at
// the checksum (fuzz_frame covers the checksum itself).
#pragma once

#include "protocol/frame.h"

namespace xfed::fuzzing {

inline Bytes with_valid_crc(const uint8_t* data, size_t size) {
  Bytes b(data, data + size);
  if (b.size() < protocol::kFrameFixedHeaderBytes) return b;
  const size_t start = protocol::kFrameFixedHeaderBytes + b[7];  // + K codec ids
  if (start > b.size()) return b;
  const uint32_t crc = crc32_of(b.data() + start, b.size() - start);
  for (int i = 0; i < 4; ++i) b[32 + i] = static_cast<uint8_t>(crc >> (8 * i));
  uint64_t len = b.size() - start;  // and the payload length, so that the frame is consistent
  for (int i = 0; i < 8; ++i) b[24 + i] = static_cast<uint8_t>(len >> (8 * i));
  return b;
}

}  // namespace xfed::fuzzing
