#include "deploy/entropy_coding.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "compression/huffman.h"

namespace xfed::deploy {
namespace {

constexpr uint8_t kRawValues = 0, kCodebookValues = 1;

Status truncated(const std::string& what) { return Status::corruption(what + ": truncated"); }

// The occurring symbols, increasing, and each symbol's rank among them.
std::vector<uint32_t> alphabet_of(const std::vector<uint32_t>& symbols) {
  std::vector<uint32_t> a(symbols);
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

std::vector<uint32_t> ranks_of(const std::vector<uint32_t>& symbols, const std::vector<uint32_t>& alphabet) {
  std::vector<uint32_t> ranks(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i)
    ranks[i] = static_cast<uint32_t>(std::lower_bound(alphabet.begin(), alphabet.end(), symbols[i]) - alphabet.begin());
  return ranks;
}

Bytes values_raw(const std::vector<float>& values) {
  Bytes b;
  ByteWriter w(&b);
  w.put_u8(kRawValues);
  for (float v : values) w.put_f32(v);
  return b;
}

Bytes values_codebook(const std::vector<float>& values) {
  std::vector<float> book(values);
  std::sort(book.begin(), book.end());
  book.erase(std::unique(book.begin(), book.end()), book.end());
  std::vector<uint32_t> places(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    places[i] = static_cast<uint32_t>(std::lower_bound(book.begin(), book.end(), values[i]) - book.begin());
  Bytes b;
  ByteWriter w(&b);
  w.put_u8(kCodebookValues);
  w.put_varint(book.size());
  for (float v : book) w.put_f32(v);
  put_symbols(places, &w);
  return b;
}

Result<std::vector<float>> get_floats(ByteReader* r, size_t count, const std::string& what) {
  if (count > r->remaining() / 4) return truncated(what);
  std::vector<float> v(count);
  for (auto& x : v) {
    if (!r->get_f32(&x)) return truncated(what);
    if (!std::isfinite(x)) return Status::corruption(what + ": a value that is not finite");
  }
  return v;
}

}  // namespace

void put_symbols(const std::vector<uint32_t>& symbols, ByteWriter* w) {
  const auto alphabet = alphabet_of(symbols);
  w->put_varint(alphabet.size());
  if (alphabet.empty()) return;
  const auto ranks = ranks_of(symbols, alphabet);
  std::vector<uint64_t> counts(alphabet.size(), 0);
  for (uint32_t r : ranks) ++counts[r];
  const auto lengths = compression::huffman_lengths(counts).value();  // every rank occurs
  for (size_t i = 0; i < alphabet.size(); ++i) {
    w->put_varint(i == 0 ? alphabet[0] : alphabet[i] - alphabet[i - 1] - 1);
    w->put_u8(lengths[i]);
  }
  Bytes bits;
  compression::huffman_encode(ranks, lengths, &bits);
  w->put_varint(bits.size());
  w->put_bytes(bits.data(), bits.size());
}

Result<std::vector<uint32_t>> get_symbols(ByteReader* r, size_t count, uint64_t max_symbol, const std::string& what) {
  uint64_t m = 0;
  if (!r->get_varint(&m)) return truncated(what);
  if (m == 0) {
    if (count != 0) return Status::corruption(what + ": " + std::to_string(count) + " symbols with no code");
    return std::vector<uint32_t>{};
  }
  if (m > r->remaining() / 2 || m > max_symbol + 1) return Status::corruption(what + ": a code of " + std::to_string(m) + " symbols");
  std::vector<uint32_t> alphabet(m);
  std::vector<uint8_t> lengths(m);
  uint64_t symbol = 0;
  for (uint64_t i = 0; i < m; ++i) {
    uint64_t step = 0;
    if (!r->get_varint(&step) || !r->get_u8(&lengths[i])) return truncated(what);
    symbol = i == 0 ? step : symbol + 1 + step;
    if (step > max_symbol || symbol > max_symbol)
      return Status::corruption(what + ": symbol above " + std::to_string(max_symbol));
    alphabet[i] = static_cast<uint32_t>(symbol);
  }
  uint64_t bytes = 0;
  if (!r->get_varint(&bytes) || bytes > r->remaining()) return truncated(what);
  const uint8_t* bits = r->take(static_cast<size_t>(bytes));
  auto ranks = compression::huffman_decode(bits, static_cast<size_t>(bytes), lengths, count);
  if (!ranks) return ranks.status().prefixed(what);
  std::vector<uint32_t> out(std::move(ranks).value());
  for (auto& s : out) s = alphabet[s];
  return out;
}

void put_values(const std::vector<float>& values, ByteWriter* w) {
  const Bytes raw = values_raw(values);
  const Bytes coded = values.empty() ? raw : values_codebook(values);
  const Bytes& smaller = coded.size() < raw.size() ? coded : raw;
  w->put_bytes(smaller.data(), smaller.size());
}

Result<std::vector<float>> get_values(ByteReader* r, size_t count, const std::string& what) {
  uint8_t mode = 0;
  if (!r->get_u8(&mode)) return truncated(what);
  if (mode == kRawValues) return get_floats(r, count, what);
  if (mode != kCodebookValues) return Status::corruption(what + ": unknown value coding " + std::to_string(mode));
  uint64_t k = 0;
  if (!r->get_varint(&k) || k == 0) return Status::corruption(what + ": an empty codebook");
  auto book = get_floats(r, static_cast<size_t>(std::min<uint64_t>(k, SIZE_MAX)), what + " codebook");
  if (!book) return book.status();
  auto places = get_symbols(r, count, k - 1, what);
  if (!places) return places.status();
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = book.value()[places.value()[i]];
  return out;
}

}  // namespace xfed::deploy
