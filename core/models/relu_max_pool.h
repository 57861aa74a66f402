// ReLU followed by 2x2 max pooling (stride 2, floor), fused: one pass over a channels-last
// map instead of LibTorch's three (ReLU, pooling with its int64 indices, and both ways
// back) — on LeNet-5's first layer (batch 64, 20x24x24) 1.7 ms of a 15 ms training step
// (#21). The result is exactly max_pool2d(relu(x), 2), and so is the gradient: each output
// takes its window's first largest value in row-major order (a NaN wins, as in LibTorch's
// kernel), its gradient goes to that position when the value is positive or NaN (where
// ReLU's backward passes it) and nothing else gets any. No arithmetic, so no rounding: a
// model trains bit for bit as on the unfused operations.
//
// Fused only where it pays and is exact: 4-D float32 CPU tensors stored channels-last
// (ChannelsLastScope's layout); anything else (NCHW, other dtypes) goes through
// at::max_pool2d(x.relu_(), 2) — `x` is consumed either way (the callers pass a fresh
// activation). With `taps` (DI pruning's statistics want the ReLU'd map itself) the map is
// ReLU'd in place, appended to *taps and pooled unfused. Thread-safe; parallel over the
// batch on LibTorch's intra-op threads.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace xfed {

at::Tensor relu_max_pool2(at::Tensor x, std::vector<at::Tensor>* taps = nullptr);

}  // namespace xfed
