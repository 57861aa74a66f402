// Test-set evaluation: mean cross-entropy and accuracy of a Net on a Dataset, in eval mode
// (BN uses running statistics) and without autograd. Leaves the Net in train mode.
#pragma once

#include "core/dataset.h"
#include "core/model.h"

namespace xfed {

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;  // fraction in [0, 1]
};

// `batch` samples a forward; 0: as many as keep the largest activation of a batch within
// kEvalBatchBytes (at least 8, at most 1000). Large batches of a CNN spill its activations
// out of the caches: on 2 cores LeNet-5 over 10,000 test images took 2.3 s at 1000 a batch
// and 0.52 s at 45; ResNet-20 over 1,000 took 4.9 s and 0.60 s at 32; the mlp is the same
// at any batch from 256 up. The batch moves only float rounding (of the logits, where the
// kernels block differently, and of the loss sum), never the model.
constexpr int64_t kEvalBatchBytes = int64_t{2} << 20;
EvalResult evaluate(NetImpl& net, const Dataset& data, int64_t batch = 0);
// The batch evaluate() takes when given 0, from one sample's activations (the net's taps).
int64_t eval_batch(NetImpl& net, const Dataset& data);

}  // namespace xfed
