#include "secagg/masking.h"

namespace xfed::secagg {
namespace {

// x += sign · PRG(seed), modulo 2^m.
void add_expanded(std::vector<uint32_t>& x, const SecretKey& seed, bool subtract, uint32_t ring_mask) {
  const auto mask = expand_mask(seed, x.size(), ring_mask);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (subtract ? x[i] - mask[i] : x[i] + mask[i]) & ring_mask;
}

}  // namespace

std::vector<uint32_t> expand_mask(const SecretKey& seed, size_t size, uint32_t ring_mask) {
  std::vector<uint8_t> stream(4 * size);
  chacha20_keystream(seed, stream.data(), stream.size());
  std::vector<uint32_t> out(size);
  for (size_t i = 0; i < size; ++i)
    out[i] = static_cast<uint32_t>(stream[4 * i]) | static_cast<uint32_t>(stream[4 * i + 1]) << 8 |
             static_cast<uint32_t>(stream[4 * i + 2]) << 16 | static_cast<uint32_t>(stream[4 * i + 3]) << 24;
  for (auto& w : out) w &= ring_mask;
  return out;
}

void add_masks(std::vector<uint32_t>& x, int64_t self, const SecretKey& self_seed, const std::vector<PairKey>& pairs,
               uint32_t ring_mask) {
  add_expanded(x, self_seed, false, ring_mask);
  for (const auto& p : pairs) add_expanded(x, p.key, p.neighbour < self, ring_mask);
}

void remove_masks(std::vector<uint32_t>& sum, const std::vector<SecretKey>& survivor_self_seeds,
                  const std::map<int64_t, std::vector<PairKey>>& dropped_pairs, uint32_t ring_mask) {
  for (const auto& seed : survivor_self_seeds) add_expanded(sum, seed, true, ring_mask);
  // A survivor u added +PRG(s_uv) when v > u, −PRG(s_uv) when v < u: undo it.
  for (const auto& [v, pairs] : dropped_pairs)
    for (const auto& p : pairs) add_expanded(sum, p.key, /*subtract=*/v > p.neighbour, ring_mask);
}

}  // namespace xfed::secagg
