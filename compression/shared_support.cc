#include "compression/shared_support.h"

#include "compression/sparsify.h"
#include "core/rng.h"

namespace xfed::compression {

std::vector<int64_t> shared_support(const StateLayout& layout, double ratio, uint64_t seed) {
  std::vector<int64_t> support;
  for (size_t i = 0; i < layout.slots.size(); ++i) {
    const auto& slot = layout.slots[i];
    const auto n = static_cast<size_t>(slot.numel);
    if (ratio >= 1) {
      for (size_t j = 0; j < n; ++j) support.push_back(slot.offset + static_cast<int64_t>(j));
      continue;
    }
    for (uint32_t j : randk_indices(n, k_for_ratio(n, ratio), splitmix64(seed ^ i)))
      support.push_back(slot.offset + j);
  }
  return support;
}

}  // namespace xfed::compression
