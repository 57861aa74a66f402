#include "secagg/neighbours.h"

#include <algorithm>

#include "core/check.h"
#include "core/rng.h"

namespace xfed::secagg {

std::map<int64_t, std::vector<int64_t>> neighbour_graph(std::vector<int64_t> clients, int k, uint64_t seed) {
  XFED_CHECK(k >= 2 && k % 2 == 0, "neighbour_graph: k must be even and at least 2");
  std::sort(clients.begin(), clients.end());
  const int64_t n = static_cast<int64_t>(clients.size());
  for (int64_t i = n - 1; i > 0; --i)  // Fisher-Yates, from the seed
    std::swap(clients[i], clients[splitmix64(seed + static_cast<uint64_t>(i)) % static_cast<uint64_t>(i + 1)]);
  std::map<int64_t, std::vector<int64_t>> graph;
  for (int64_t i = 0; i < n; ++i) {
    auto& mine = graph[clients[i]];
    if (n <= k + 1) {
      for (int64_t j = 0; j < n; ++j)
        if (j != i) mine.push_back(clients[j]);
    } else {
      for (int64_t d = 1; d <= k / 2; ++d) {
        mine.push_back(clients[(i + d) % n]);
        mine.push_back(clients[(i - d + n) % n]);
      }
    }
    std::sort(mine.begin(), mine.end());
  }
  return graph;
}

}  // namespace xfed::secagg
