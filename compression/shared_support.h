// The positions every client of a secure-aggregation round sends (#19). Masks are dense and
// cancel only in the sum, so the clients of a round must all send the same positions, and a
// client's choice must not leak: the support is `randk:R` drawn per tensor from a public
// seed of the round — no index bytes travel, the coordinator draws the same positions.
// R = 1 (an uplink without a sparsifier): every position.
#pragma once

#include <cstdint>
#include <vector>

#include "core/state_layout.h"

namespace xfed::compression {

// Sorted flat positions: per tensor of `layout`, k_for_ratio(numel, ratio) random positions
// (randk_indices with a per-tensor seed from `seed`), offset into the flat state.
std::vector<int64_t> shared_support(const StateLayout& layout, double ratio, uint64_t seed);

}  // namespace xfed::compression
