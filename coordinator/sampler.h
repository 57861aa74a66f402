// Client sampling and placement (protocol step 1).
//
// sample_clients picks round(fraction * clients) clients (at least 1) without replacement,
// seeded by (seed, round) only, and returns them sorted. place_clients maps each sampled
// client to a worker rank: kBalanced (any rank can serve any client: longest-processing-
// time-first by client data size, ties by id) or kStatic (client c always on rank
// 1 + c mod workers: edge devices and per-rank client state). Pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace xfed::coordinator {

enum class Placement { kBalanced, kStatic };

std::vector<int64_t> sample_clients(int64_t clients, double fraction, uint64_t seed,
                                    uint64_t round);

// ranks[i] = worker rank (1..workers) of sampled[i]. sizes may be empty (all equal).
std::vector<int> place_clients(const std::vector<int64_t>& sampled,
                               const std::vector<int64_t>& sizes, int workers,
                               Placement placement);

}  // namespace xfed::coordinator
