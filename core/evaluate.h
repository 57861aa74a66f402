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

EvalResult evaluate(NetImpl& net, const Dataset& data, int64_t batch = 1000);

}  // namespace xfed
