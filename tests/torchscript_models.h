// The TorchScript archives the tests train (tests/torchscript/export_models.py), exported
// into `dir` by Debian's python3-torch, the same 1.13 as LibTorch: mlp.pt, bn_cnn.pt,
// wrong_shape.pt, three_channels.pt, nan_weights.pt, wide_cnn.pt, residual.pt, view_cnn.pt (inputs 1x28x28,
// 10 classes).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tests/cli_run.h"

namespace xfed::testing {

// Debian's interpreter: python3-torch is installed for it (a python3 earlier on PATH may lack it).
inline ::testing::AssertionResult export_test_models(const std::string& dir) {
  const auto r = run_command("/usr/bin/python3 " XFED_SOURCE_DIR "/tests/torchscript/export_models.py " + dir, 300);
  if (r.code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "exporting the test models with python3-torch failed:\n" << r.out;
}

}  // namespace xfed::testing
