// Masks (SecAgg, Bonawitz et al. 2017; SecAgg+, Bell et al. 2020): what a client adds to its
// encoded vector so that the coordinator learns only the sum.
//   y_u = x_u + PRG(b_u) + Σ_{v ∈ N(u), v > u} PRG(s_uv) − Σ_{v ∈ N(u), v < u} PRG(s_uv)  (mod 2^m)
// b_u: the client's self-mask seed; s_uv: the key u and v agree on (core/key_agreement.h),
// the same for both, so each pairwise mask is added once and subtracted once in the sum.
// PRG: the ChaCha20 keystream of the seed, as little-endian 32-bit words reduced mod 2^m
// (m ≤ 32: the ring of secagg/fixed_point.h; `ring_mask` = 2^m − 1).
// The coordinator removes the survivors' self-masks (their b_u, recovered from shares) and,
// for each dropped client v, the pairwise masks its surviving neighbours added (s_uv,
// recomputed from v's recovered secret key): unmask below. Pure arithmetic; no transport.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/crypto.h"

namespace xfed::secagg {

// `size` words of the keystream of `seed`, each ANDed with `ring_mask`.
std::vector<uint32_t> expand_mask(const SecretKey& seed, size_t size, uint32_t ring_mask = 0xffffffffu);

// A neighbour's id and the key this client agrees on with it.
struct PairKey {
  int64_t neighbour = 0;
  SecretKey key{};
};

// y_u from x_u (in place): adds the self-mask and each neighbour's pairwise mask, + when the
// neighbour's id is above `self`, − when below.
void add_masks(std::vector<uint32_t>& x, int64_t self, const SecretKey& self_seed, const std::vector<PairKey>& pairs,
               uint32_t ring_mask = 0xffffffffu);

// What the coordinator removes from the sum of the survivors' masked vectors: their
// self-masks, and for each dropped client v the masks between v and its surviving
// neighbours (v's view: `dropped_pairs[v]` holds v's keys with those survivors).
void remove_masks(std::vector<uint32_t>& sum, const std::vector<SecretKey>& survivor_self_seeds,
                  const std::map<int64_t, std::vector<PairKey>>& dropped_pairs, uint32_t ring_mask = 0xffffffffu);

}  // namespace xfed::secagg
