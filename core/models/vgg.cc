#include "core/models/vgg.h"

#include <ATen/ATen.h>

#include "core/models/relu_max_pool.h"

namespace xfed {

VggImpl::VggImpl(const ModelSpec& s) : NetImpl(s) {
  convs_ = register_module("convs", torch::nn::ModuleList());
  bns_ = register_module("bns", torch::nn::ModuleList());
  int64_t in = s.in_channels;
  for (int i = 0; i < kConvLayers; ++i) {
    convs_->push_back(torch::nn::Conv2d(
        torch::nn::Conv2dOptions(in, s.widths[i], 3).padding(1).bias(false)));
    bns_->push_back(torch::nn::BatchNorm2d(s.widths[i]));
    in = s.widths[i];
  }
  fc1_ = register_module("fc1", torch::nn::Linear(in * flat_h() * flat_w(), s.widths[6]));
  bn_fc1_ = register_module("bn_fc1", torch::nn::BatchNorm1d(s.widths[6]));
  fc2_ = register_module("fc2", torch::nn::Linear(s.widths[6], s.classes));
}

at::Tensor VggImpl::forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) {
  auto h = x;
  for (int i = 0; i < kConvLayers; ++i) {
    h = convs_[i]->as<torch::nn::Conv2d>()->forward(h);
    h = bns_[i]->as<torch::nn::BatchNorm2d>()->forward(h);
    if (i % 2 == 1) {
      h = relu_max_pool2(h, taps);
    } else {
      h.relu_();
      if (taps) taps->push_back(h);
    }
  }
  h = bn_fc1_->forward(fc1_->forward(h.flatten(1))).relu_();
  if (taps) taps->push_back(h);
  return fc2_->forward(h);
}

std::vector<PrunableLayer> VggImpl::prunable_layers() const {
  std::vector<PrunableLayer> out;
  for (int i = 0; i < kConvLayers; ++i)
    out.push_back({"conv" + std::to_string(i + 1), spec().widths[i]});
  out.push_back({"fc1", spec().widths[6]});
  return out;
}

std::vector<AxisBinding> VggImpl::axis_bindings() const {
  std::vector<AxisBinding> b;
  for (int i = 0; i < kConvLayers; ++i) {
    b.push_back({"convs." + std::to_string(i) + ".weight", 0, i});
    bind_batchnorm(&b, "bns." + std::to_string(i), i);
    if (i + 1 < kConvLayers) b.push_back({"convs." + std::to_string(i + 1) + ".weight", 1, i});
  }
  b.push_back({"fc1.weight", 1, kConvLayers - 1, flat_h() * flat_w()});
  b.push_back({"fc1.weight", 0, kConvLayers});
  b.push_back({"fc1.bias", 0, kConvLayers});
  bind_batchnorm(&b, "bn_fc1", kConvLayers);
  b.push_back({"fc2.weight", 1, kConvLayers});
  return b;
}

int64_t VggImpl::flops() const {
  const auto& s = spec();
  int64_t in = s.in_channels, h = s.height, w = s.width, total = 0;
  for (int i = 0; i < kConvLayers; ++i) {
    total += conv_flops(in, s.widths[i], 3, h, w);
    in = s.widths[i];
    if (i % 2 == 1) h /= 2, w /= 2;
  }
  return total + linear_flops(in * flat_h() * flat_w(), s.widths[6]) +
         linear_flops(s.widths[6], s.classes);
}

}  // namespace xfed
