// SecAgg+'s communication graph (Bell et al. 2020): each client masks against k neighbours,
// not all n − 1, so that a round costs O(n log n). The graph is a Harary graph — each client
// joined to the k/2 nearest on each side of a ring — over a random permutation of the
// round's clients, drawn from a public seed (the coordinator cannot pick a client's
// neighbours; every party can recompute them). k even; with n ≤ k + 1 every pair is joined.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace xfed::secagg {

// For each of `clients` (ids, any order), its neighbours (sorted). k >= 2 and even.
std::map<int64_t, std::vector<int64_t>> neighbour_graph(std::vector<int64_t> clients, int k, uint64_t seed);

}  // namespace xfed::secagg
