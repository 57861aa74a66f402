// Canonical Huffman codes (#20: the last stage of Deep Compression, for the compact export's
// shared-weight indices). A code is its lengths alone — one per symbol, 0 for a symbol that
// never occurs — so a file stores the lengths and both sides assign the same codewords:
// shorter codes first, and within one length in increasing symbol order, each codeword the
// previous one plus one (DEFLATE's rule). Codewords travel most significant bit first through
// compression/bitpack.h's bit writer, one bit at a time.
//
// huffman_lengths builds optimal lengths (Huffman's merge of the two rarest, ties broken by
// the lower symbol so the result is deterministic), limited to `max_length` bits by halving
// the counts and building again until it fits (rarely needed: only for counts as skewed as
// Fibonacci numbers). huffman_decode checks everything a file can get wrong: lengths above
// kMaxHuffmanLength, an over-subscribed code (Kraft sum above 1), bits that run out, a
// bit pattern that is no codeword (an incomplete code). Pure; no allocation sized from input
// beyond what the caller asks for.
#pragma once

#include <cstdint>
#include <vector>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::compression {

constexpr int kMaxHuffmanLength = 30;

// Lengths for `counts` (0 count: length 0). One symbol that occurs gets length 1. An error
// when no symbol occurs or max_length cannot hold the occurring symbols (2^max < their number).
Result<std::vector<uint8_t>> huffman_lengths(const std::vector<uint64_t>& counts, int max_length = kMaxHuffmanLength);

// A usage error unless every length is in [0, kMaxHuffmanLength], some is nonzero and the
// Kraft sum Σ 2^-length is at most 1.
Status check_huffman_lengths(const std::vector<uint8_t>& lengths);

// The canonical codewords (right-aligned in the low `lengths[s]` bits), 0 where absent.
std::vector<uint32_t> huffman_codewords(const std::vector<uint8_t>& lengths);

// Appends the symbols' codewords to `out`; every symbol must have a nonzero length (checked).
void huffman_encode(const std::vector<uint32_t>& symbols, const std::vector<uint8_t>& lengths, Bytes* out);
// The bits `symbols` take under `lengths`.
uint64_t huffman_bits(const std::vector<uint64_t>& counts, const std::vector<uint8_t>& lengths);

// `count` symbols from `data` (at most `size` bytes); `*used` (optional): the bytes read.
Result<std::vector<uint32_t>> huffman_decode(const uint8_t* data, size_t size, const std::vector<uint8_t>& lengths,
                                             size_t count, size_t* used = nullptr);

// Shannon's bound: the fewest bits per symbol any code can average on `counts`.
double entropy_bits(const std::vector<uint64_t>& counts);

}  // namespace xfed::compression
