// ResNet20 for 32x32 inputs (He et al. 2016, CIFAR variant): 3x3 stem, three stages of
// three basic blocks, global average pooling, linear classifier. Stage 2 and 3 open with a
// stride-2 block whose shortcut is a 1x1 conv + BN (option B), so the channels of a stage
// are one residual-coupled group.
//
// widths = {stage1, stage2, stage3, inner1..inner9}: stage widths are the coupled groups
// (stem/block outputs/shortcuts), inner_i is the width of block i's first conv.
// Taps: the stem output (stage 1), then per block its inner activation and its output
// (which belongs to its stage's group).
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "core/model.h"

namespace xfed {

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t inner, int64_t out, int64_t stride);
  // Returns the block output; *inner_act gets the post-ReLU output of the first conv.
  at::Tensor forward(const at::Tensor& x, at::Tensor* inner_act);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, shortcut_bn_{nullptr};
};
TORCH_MODULE(BasicBlock);

class ResNet20Impl : public NetImpl {
 public:
  static constexpr int kStages = 3;
  static constexpr int kBlocksPerStage = 3;
  explicit ResNet20Impl(const ModelSpec& spec);
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) override;
  std::vector<PrunableLayer> prunable_layers() const override;
  std::vector<int> tap_layers() const override;
  std::vector<AxisBinding> axis_bindings() const override;
  int64_t flops() const override;
  bool runs_channels_last() const override { return true; }

 private:
  torch::nn::Conv2d stem_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr};
  std::vector<BasicBlock> blocks_;
  torch::nn::Linear fc_{nullptr};
};

}  // namespace xfed
