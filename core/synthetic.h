// Synthetic data: seeded Gaussian class clusters of any shape, for fast tests and demos.
//
// Each class k has a mean image mu_k ~ N(0, 1) per element; a sample of class k is
// mu_k + noise * N(0, 1). Labels are balanced (sample i has class i mod classes, then
// shuffled). The same options give the same data on every machine.
#pragma once

#include <cstdint>

#include "core/dataset.h"

namespace xfed {

struct SyntheticOptions {
  int64_t classes = 10;
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t train_size = 6000;
  int64_t test_size = 1000;
  double noise = 8.0;
  uint64_t seed = 1;
};

TrainTestData make_synthetic(const SyntheticOptions& options);

}  // namespace xfed
