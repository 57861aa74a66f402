// Inference from a compact model (#20), without expanding its layers to dense: each layer's
// product is the format's own (compression::multiply_columns: CER/CSER sum the inputs that
// share a value, then multiply once per value), a convolution is the product of its weight
// matrix with the im2col columns of its input, and ReLU and 2x2 max pooling run between
// layers as in the LibTorch model (core/models/mlp.h, lenet5.h).
//
// Precision: every product accumulates in float64 and rounds each output to float32 once,
// then adds the bias in float32. So a layer's outputs differ from the exact products of its
// float32 inputs by at most one float32 rounding (plus float64's, ~fan_in x 2^-53 relative),
// whatever the format; LibTorch's float32 kernels on the same weights differ from exact by
// up to ~fan_in x 2^-24 x Σ|w x| per output. Predictions agree wherever the top two logits
// are further apart than those bounds carried through the layers (tests/compact_test.cc
// computes the bound and checks it).
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "deploy/compact_model.h"

namespace xfed::deploy {

// Logits [batch][classes] of `batch` samples given sample-major ([b][c][h][w], the spec's
// input shape). A usage error when `images` does not hold batch x c x h x w values.
Result<std::vector<float>> compact_logits(const CompactModel& model, const std::vector<float>& images, int64_t batch);

// One inference's multiplications and additions over all layers.
compression::Operations model_operations(const CompactModel& model);

}  // namespace xfed::deploy
