// Debian's Fashion-MNIST (dataset-fashion-mnist), loaded once per test binary and normalized
// as xfed normalizes it: the real images for tests that check predictions and training steps.
#pragma once

#include "core/idx_reader.h"

namespace xfed::testing {

inline const TrainTestData& fashion_mnist() {
  static const auto data =
      load_mnist_dir("/usr/share/datasets/fashion-mnist", "fashion-mnist", 0.2860, 0.3530).value();
  return data;
}

}  // namespace xfed::testing
