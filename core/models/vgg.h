// Vgg: a small VGG with BatchNorm for 32x32 inputs: three blocks of two 3x3 conv+BN+ReLU
// layers, each followed by 2x2 max-pooling, then fc1+BN+ReLU and a linear classifier.
// widths = {conv1..conv6, fc1}. The conv6 -> flatten -> fc1 edge makes each conv6 channel
// own (H/8)*(W/8) consecutive input columns of fc1.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "core/model.h"

namespace xfed {

class VggImpl : public NetImpl {
 public:
  static constexpr int kConvLayers = 6;
  explicit VggImpl(const ModelSpec& spec);
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) override;
  std::vector<PrunableLayer> prunable_layers() const override;
  std::vector<AxisBinding> axis_bindings() const override;
  int64_t flops() const override;
  bool runs_channels_last() const override { return true; }

 private:
  int64_t flat_h() const { return spec().height / 8; }
  int64_t flat_w() const { return spec().width / 8; }
  torch::nn::ModuleList convs_, bns_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
  torch::nn::BatchNorm1d bn_fc1_{nullptr};
};

}  // namespace xfed
