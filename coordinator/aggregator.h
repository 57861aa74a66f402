// Aggregation (protocol step 5, first half): the sample-weighted mean of client deltas,
// summed in client-id order in float64 so that the result does not depend on arrival order
// or thread count.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace xfed::coordinator {

struct ClientUpdate {
  int64_t client = 0;
  int64_t samples = 0;
  at::Tensor delta;  // 1-D float32, the flat state layout
};

// sum_k n_k delta_k / sum_k n_k as float32. Sorts `updates` by client id. Needs >= 1 update
// with samples > 0.
at::Tensor weighted_mean(std::vector<ClientUpdate>& updates);

}  // namespace xfed::coordinator
