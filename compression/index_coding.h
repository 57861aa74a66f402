// Coding of sorted, distinct indices into [0, n): the positions of a sparsified tensor.
//
// Three codings; encode_indices picks the smallest for each tensor:
//   kDeltaVarint: gaps (first index, then differences - 1) as LEB128 varints
//   kBitmap     : n bits, bit i set if i is present
//   kRice       : gaps as Rice codes with parameter b (unary quotient, b-bit remainder),
//                 b chosen from the mean gap; near-optimal for geometric gaps
// Layout: u8 coding, [u8 b for kRice], coded bytes. The decoder knows k and n and checks
// that indices are increasing and below n.
#pragma once

#include <cstdint>
#include <vector>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::compression {

// wire format: never change these values.
enum class IndexCoding : uint8_t { kDeltaVarint = 0, kBitmap = 1, kRice = 2 };

void encode_indices(const std::vector<uint32_t>& indices, uint64_t n, Bytes* out);
Status decode_indices(ByteReader& r, uint64_t k, uint64_t n, std::vector<uint32_t>* indices);

// Exposed for tests: the size each coding would take (coding byte included).
size_t delta_varint_size(const std::vector<uint32_t>& indices);
size_t bitmap_size(uint64_t n);
size_t rice_size(const std::vector<uint32_t>& indices, int b);
int rice_parameter(const std::vector<uint32_t>& indices, uint64_t n);

}  // namespace xfed::compression
