#include "core/models/lenet5.h"

#include <ATen/ATen.h>

#include "core/models/relu_max_pool.h"

namespace xfed {

LeNet5Impl::LeNet5Impl(const ModelSpec& s) : NetImpl(s) {
  const auto& w = s.widths;
  conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(s.in_channels, w[0], 5)));
  conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(w[0], w[1], 5)));
  fc1_ = register_module("fc1", torch::nn::Linear(w[1] * (h2() / 2) * (w2() / 2), w[2]));
  fc2_ = register_module("fc2", torch::nn::Linear(w[2], s.classes));
}

at::Tensor LeNet5Impl::forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) {
  auto h = relu_max_pool2(conv1_->forward(x), taps);
  h = relu_max_pool2(conv2_->forward(h), taps).flatten(1);
  h = fc1_->forward(h).relu_();
  if (taps) taps->push_back(h);
  return fc2_->forward(h);
}

std::vector<PrunableLayer> LeNet5Impl::prunable_layers() const {
  const auto& w = spec().widths;
  return {{"conv1", w[0]}, {"conv2", w[1]}, {"fc1", w[2]}};
}

std::vector<AxisBinding> LeNet5Impl::axis_bindings() const {
  const int64_t spatial = (h2() / 2) * (w2() / 2);  // fc1 columns per conv2 channel
  return {{"conv1.weight", 0, 0}, {"conv1.bias", 0, 0}, {"conv2.weight", 1, 0},
          {"conv2.weight", 0, 1}, {"conv2.bias", 0, 1}, {"fc1.weight", 1, 1, spatial},
          {"fc1.weight", 0, 2},   {"fc1.bias", 0, 2},   {"fc2.weight", 1, 2}};
}

int64_t LeNet5Impl::flops() const {
  const auto& s = spec();
  const auto& w = s.widths;
  return conv_flops(s.in_channels, w[0], 5, h1(), w1()) + conv_flops(w[0], w[1], 5, h2(), w2()) +
         linear_flops(w[1] * (h2() / 2) * (w2() / 2), w[2]) + linear_flops(w[2], s.classes);
}

}  // namespace xfed
