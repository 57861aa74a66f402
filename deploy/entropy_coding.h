// The entropy-coded arrays of an .xdc file (#20): every index array of a compact layer (row
// lengths, column gaps, segment lengths, codebook indices) is a stream of unsigned integers
// coded with a canonical Huffman code (compression/huffman.h) over the symbols that occur.
//   symbols:  varint m (occurring symbols), then per symbol: varint (symbol - previous - 1)
//             and u8 code length; varint bit bytes, the codewords. m = 0: no symbols.
// The code is built on the ranks of the occurring symbols, so a table costs what occurs, not
// the largest value, and a reader allocates nothing the file's bytes do not pay for (every
// symbol costs at least one bit).
//   values:   u8 mode; 0: count raw float32; 1: varint k, k float32 (the distinct values,
//             increasing), then the symbols of each value's place in them. The writer takes
//             whichever is smaller.
// Readers check everything (ranges, counts against the bytes left, finite values) and name
// `what` in the error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::deploy {

void put_symbols(const std::vector<uint32_t>& symbols, ByteWriter* w);
// `count` symbols, each at most `max_symbol`.
Result<std::vector<uint32_t>> get_symbols(ByteReader* r, size_t count, uint64_t max_symbol, const std::string& what);

void put_values(const std::vector<float>& values, ByteWriter* w);
Result<std::vector<float>> get_values(ByteReader* r, size_t count, const std::string& what);

}  // namespace xfed::deploy
