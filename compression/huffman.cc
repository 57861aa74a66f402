#include "compression/huffman.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>

#include "compression/bitpack.h"
#include "core/check.h"

namespace xfed::compression {
namespace {

// Optimal (unlimited) lengths: repeatedly merge the two lightest trees (ties: the tree made
// first, leaves by symbol, so the result is deterministic); a leaf's length is its depth.
std::vector<uint8_t> unlimited_lengths(const std::vector<uint64_t>& counts) {
  using Node = std::pair<uint64_t, size_t>;  // weight, node id (leaves first, by symbol)
  std::priority_queue<Node, std::vector<Node>, std::greater<Node>> heap;
  std::vector<size_t> parent, leaf_symbol;
  for (size_t s = 0; s < counts.size(); ++s)
    if (counts[s] > 0) {
      heap.push({counts[s], parent.size()});
      parent.push_back(0);
      leaf_symbol.push_back(s);
    }
  std::vector<uint8_t> lengths(counts.size(), 0);
  if (leaf_symbol.size() == 1) {
    lengths[leaf_symbol[0]] = 1;
    return lengths;
  }
  while (heap.size() > 1) {
    const auto a = heap.top();
    heap.pop();
    const auto b = heap.top();
    heap.pop();
    const size_t id = parent.size();
    parent.push_back(id);  // the root is its own parent
    parent[a.second] = parent[b.second] = id;
    heap.push({a.first + b.first, id});
  }
  // Depths from the root down: a node's parent has a larger id.
  std::vector<int> depth(parent.size(), 0);
  for (size_t id = parent.size(); id-- > 0;)
    if (parent[id] != id) depth[id] = depth[parent[id]] + 1;
  for (size_t i = 0; i < leaf_symbol.size(); ++i) lengths[leaf_symbol[i]] = static_cast<uint8_t>(std::min(depth[i], 255));
  return lengths;
}

// Symbols ordered as canonical codes assign them: by length, then by symbol.
std::vector<size_t> canonical_order(const std::vector<uint8_t>& lengths) {
  std::vector<size_t> order;
  for (size_t s = 0; s < lengths.size(); ++s)
    if (lengths[s] > 0) order.push_back(s);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  return order;
}

}  // namespace

Result<std::vector<uint8_t>> huffman_lengths(const std::vector<uint64_t>& counts, int max_length) {
  const auto used = static_cast<size_t>(std::count_if(counts.begin(), counts.end(), [](uint64_t c) { return c > 0; }));
  if (used == 0) return Status::usage("huffman: no symbol occurs");
  if (max_length < 1 || max_length > kMaxHuffmanLength || (max_length < 63 && used > (uint64_t{1} << max_length)))
    return Status::usage("huffman: " + std::to_string(used) + " symbols do not fit codes of at most " +
                         std::to_string(max_length) + " bits");
  auto c = counts;
  for (;;) {
    auto lengths = unlimited_lengths(c);
    if (*std::max_element(lengths.begin(), lengths.end()) <= max_length) return lengths;
    for (auto& x : c)
      if (x > 0) x = std::max<uint64_t>(1, x / 2);  // flatter counts, shallower tree
  }
}

Status check_huffman_lengths(const std::vector<uint8_t>& lengths) {
  double kraft = 0;
  bool any = false;
  for (size_t s = 0; s < lengths.size(); ++s) {
    if (lengths[s] > kMaxHuffmanLength)
      return Status::usage("huffman: symbol " + std::to_string(s) + " has a code of " + std::to_string(lengths[s]) +
                           " bits (at most " + std::to_string(kMaxHuffmanLength) + ")");
    if (lengths[s] == 0) continue;
    any = true;
    kraft += std::ldexp(1.0, -lengths[s]);  // exact: sums of at most 2^30 terms of >= 2^-30
  }
  if (!any) return Status::usage("huffman: no symbol has a code");
  if (kraft > 1.0) return Status::usage("huffman: the code lengths are over-subscribed (Kraft sum above 1)");
  return Status::ok();
}

std::vector<uint32_t> huffman_codewords(const std::vector<uint8_t>& lengths) {
  std::vector<uint32_t> codes(lengths.size(), 0);
  uint32_t code = 0;
  int length = 0;
  for (size_t s : canonical_order(lengths)) {
    code <<= (lengths[s] - length);
    length = lengths[s];
    codes[s] = code++;
  }
  return codes;
}

void huffman_encode(const std::vector<uint32_t>& symbols, const std::vector<uint8_t>& lengths, Bytes* out) {
  const auto codes = huffman_codewords(lengths);
  BitWriter w(out);
  for (uint32_t s : symbols) {
    XFED_CHECK(s < lengths.size() && lengths[s] > 0, "huffman_encode: a symbol without a code");
    for (int b = lengths[s] - 1; b >= 0; --b) w.put((codes[s] >> b) & 1u, 1);
  }
  w.flush();
}

uint64_t huffman_bits(const std::vector<uint64_t>& counts, const std::vector<uint8_t>& lengths) {
  uint64_t bits = 0;
  for (size_t s = 0; s < counts.size() && s < lengths.size(); ++s) bits += counts[s] * lengths[s];
  return bits;
}

Result<std::vector<uint32_t>> huffman_decode(const uint8_t* data, size_t size, const std::vector<uint8_t>& lengths,
                                             size_t count, size_t* used) {
  if (auto st = check_huffman_lengths(lengths); !st) return st;
  // Per length L: how many codewords, the first codeword, and where its symbols start in `order`.
  const auto order = canonical_order(lengths);
  std::vector<uint32_t> per_length(kMaxHuffmanLength + 1, 0), first(kMaxHuffmanLength + 2, 0), start(kMaxHuffmanLength + 2, 0);
  for (size_t s : order) ++per_length[lengths[s]];
  uint32_t code = 0, index = 0;
  for (int l = 1; l <= kMaxHuffmanLength; ++l) {
    code = (code + (l > 1 ? per_length[l - 1] : 0)) << 1;
    if (l == 1) code = 0;
    first[l] = code;
    start[l] = index;
    index += per_length[l];
  }
  if (count > size * 8) return Status::corruption("huffman: " + std::to_string(count) + " symbols cannot fit in " + std::to_string(size) + " bytes");
  std::vector<uint32_t> out;
  out.reserve(count);
  BitReader r(data, size);
  for (size_t i = 0; i < count; ++i) {
    uint32_t v = 0;
    int l = 0;
    for (;;) {
      uint64_t bit = 0;
      if (!r.get(1, &bit)) return Status::corruption("huffman: the bits end at symbol " + std::to_string(i) + " of " + std::to_string(count));
      v = (v << 1) | static_cast<uint32_t>(bit);
      ++l;
      if (per_length[l] > 0 && v >= first[l] && v - first[l] < per_length[l]) {
        out.push_back(static_cast<uint32_t>(order[start[l] + (v - first[l])]));
        break;
      }
      if (l == kMaxHuffmanLength) return Status::corruption("huffman: bits that are no codeword at symbol " + std::to_string(i));
    }
  }
  if (used) *used = r.bytes_used();
  return out;
}

double entropy_bits(const std::vector<uint64_t>& counts) {
  double total = 0, h = 0;
  for (uint64_t c : counts) total += static_cast<double>(c);
  if (total == 0) return 0;
  for (uint64_t c : counts)
    if (c > 0) {
      const double p = static_cast<double>(c) / total;
      h -= p * std::log2(p);
    }
  return h;
}

}  // namespace xfed::compression
