// libFuzzer target: canonical Huffman decoding (compression/huffman.h) of outside bytes.
// Input: u8 n, n code lengths (one byte each), u16 symbol count (little-endian), the bits.
// A decoded stream must encode back to the same bytes' prefix: the decoder and the encoder
// agree on every code the decoder accepts.
#include <cstdlib>

#include "compression/huffman.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t n = data[0];
  if (size < 1 + n + 2) return 0;
  const std::vector<uint8_t> lengths(data + 1, data + 1 + n);
  const size_t count = data[1 + n] | (static_cast<size_t>(data[2 + n]) << 8);
  const uint8_t* bits = data + 3 + n;
  const size_t bytes = size - 3 - n;
  size_t used = 0;
  const auto symbols = xfed::compression::huffman_decode(bits, bytes, lengths, count, &used);
  if (!symbols) return 0;
  if (symbols.value().size() != count || used > bytes) std::abort();
  xfed::Bytes again;
  xfed::compression::huffman_encode(symbols.value(), lengths, &again);
  if (again.size() != used) std::abort();
  for (size_t i = 0; i + 1 < used; ++i)
    if (again[i] != bits[i]) std::abort();  // the last byte's padding bits may differ
  return 0;
}
