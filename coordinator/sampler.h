// Client sampling and placement (protocol step 1).
//
// sample_clients picks round(fraction * clients) clients (at least 1) without replacement,
// seeded by (seed, round) only, and returns them sorted. place_clients maps each sampled
// client to a worker rank, balanced: longest-processing-time-first by client data size, ties
// by position. home_ranks gives every client a rank for the whole run (per-rank client
// state: multi-process runs): the same balancing over all clients in a seeded order, so
// each rank holds a fair share. Pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace xfed::coordinator {

std::vector<int64_t> sample_clients(int64_t clients, double fraction, uint64_t seed,
                                    uint64_t round);

// ranks[i] = worker rank (1..workers) of sampled[i]. sizes may be empty (all equal).
std::vector<int> place_clients(const std::vector<int64_t>& sampled,
                               const std::vector<int64_t>& sizes, int workers);

// home[c] = worker rank (1..workers) of client c for the whole run; sizes as above.
std::vector<int> home_ranks(int64_t clients, const std::vector<int64_t>& sizes, int workers, uint64_t seed);

}  // namespace xfed::coordinator
