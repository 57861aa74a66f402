// LeNet5 (Caffe variant): conv 5x5 (20) - maxpool - conv 5x5 (50) - maxpool - fc (500) -
// fc (classes), ReLU after each hidden layer. widths = {conv1, conv2, fc1}.
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "core/model.h"

namespace xfed {

class LeNet5Impl : public NetImpl {
 public:
  explicit LeNet5Impl(const ModelSpec& spec);
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) override;
  std::vector<PrunableLayer> prunable_layers() const override;
  std::vector<AxisBinding> axis_bindings() const override;
  int64_t flops() const override;
  bool runs_channels_last() const override { return true; }

 private:
  // Spatial size after conv1, pool, conv2, pool.
  int64_t h1() const { return spec().height - 4; }
  int64_t w1() const { return spec().width - 4; }
  int64_t h2() const { return h1() / 2 - 4; }
  int64_t w2() const { return w1() / 2 - 4; }
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};

}  // namespace xfed
