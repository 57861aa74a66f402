#include "core/models/resnet.h"

#include <ATen/ATen.h>

namespace xfed {
namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t inner, int64_t out, int64_t stride) {
  conv1_ = register_module("conv1", conv3x3(in, inner, stride));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(inner));
  conv2_ = register_module("conv2", conv3x3(inner, out, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
  if (stride != 1 || in != out) {
    shortcut_ = register_module(
        "shortcut",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
    shortcut_bn_ = register_module("shortcut_bn", torch::nn::BatchNorm2d(out));
  }
}

at::Tensor BasicBlockImpl::forward(const at::Tensor& x, at::Tensor* inner_act) {
  auto h = bn1_->forward(conv1_->forward(x)).relu_();
  if (inner_act) *inner_act = h;
  h = bn2_->forward(conv2_->forward(h));
  const auto skip = shortcut_ ? shortcut_bn_->forward(shortcut_->forward(x)) : x;
  return (h + skip).relu_();
}

ResNet20Impl::ResNet20Impl(const ModelSpec& s) : NetImpl(s) {
  const auto& w = s.widths;
  stem_ = register_module("stem", conv3x3(s.in_channels, w[0], 1));
  stem_bn_ = register_module("stem_bn", torch::nn::BatchNorm2d(w[0]));
  int64_t in = w[0];
  for (int stage = 0; stage < kStages; ++stage) {
    for (int b = 0; b < kBlocksPerStage; ++b) {
      const int index = stage * kBlocksPerStage + b;
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      blocks_.push_back(register_module("block" + std::to_string(index + 1),
                                        BasicBlock(in, w[kStages + index], w[stage], stride)));
      in = w[stage];
    }
  }
  fc_ = register_module("fc", torch::nn::Linear(in, s.classes));
}

at::Tensor ResNet20Impl::forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) {
  auto h = stem_bn_->forward(stem_->forward(x)).relu_();
  if (taps) taps->push_back(h);
  for (auto& block : blocks_) {
    at::Tensor inner;
    h = block->forward(h, taps ? &inner : nullptr);
    if (taps) taps->insert(taps->end(), {inner, h});
  }
  return fc_->forward(h.mean({2, 3}));
}

std::vector<int> ResNet20Impl::tap_layers() const {
  std::vector<int> t{0};
  for (int b = 0; b < kStages * kBlocksPerStage; ++b) t.insert(t.end(), {kStages + b, b / kBlocksPerStage});
  return t;
}

// Group s (stage s's channels) is produced by the stem (s = 0) or the stage's projection
// shortcut, and by every block's conv2 of the stage; it is read by the conv1 of the blocks
// that take it as input, the next stage's projection, or the classifier.
std::vector<AxisBinding> ResNet20Impl::axis_bindings() const {
  std::vector<AxisBinding> b{{"stem.weight", 0, 0}};
  bind_batchnorm(&b, "stem_bn", 0);
  for (int i = 0; i < kStages * kBlocksPerStage; ++i) {
    const std::string name = "block" + std::to_string(i + 1);
    const int stage = i / kBlocksPerStage, inner = kStages + i;
    const int input_group = (i % kBlocksPerStage == 0 && stage > 0) ? stage - 1 : stage;
    b.push_back({name + ".conv1.weight", 1, input_group});
    b.push_back({name + ".conv1.weight", 0, inner});
    bind_batchnorm(&b, name + ".bn1", inner);
    b.push_back({name + ".conv2.weight", 1, inner});
    b.push_back({name + ".conv2.weight", 0, stage});
    bind_batchnorm(&b, name + ".bn2", stage);
    if (stage > 0 && i % kBlocksPerStage == 0) {
      b.push_back({name + ".shortcut.weight", 1, input_group});
      b.push_back({name + ".shortcut.weight", 0, stage});
      bind_batchnorm(&b, name + ".shortcut_bn", stage);
    }
  }
  b.push_back({"fc.weight", 1, kStages - 1});
  return b;
}

std::vector<PrunableLayer> ResNet20Impl::prunable_layers() const {
  const auto& w = spec().widths;
  std::vector<PrunableLayer> out;
  for (int s = 0; s < kStages; ++s) out.push_back({"stage" + std::to_string(s + 1), w[s]});
  for (int b = 0; b < kStages * kBlocksPerStage; ++b)
    out.push_back({"block" + std::to_string(b + 1) + ".conv1", w[kStages + b]});
  return out;
}

int64_t ResNet20Impl::flops() const {
  const auto& s = spec();
  const auto& w = s.widths;
  int64_t h = s.height, wd = s.width, in = w[0];
  int64_t total = conv_flops(s.in_channels, w[0], 3, h, wd);
  for (int stage = 0; stage < kStages; ++stage) {
    for (int b = 0; b < kBlocksPerStage; ++b) {
      const int64_t inner = w[kStages + stage * kBlocksPerStage + b];
      const bool down = stage > 0 && b == 0;
      if (down) h = (h + 1) / 2, wd = (wd + 1) / 2;
      total += conv_flops(in, inner, 3, h, wd) + conv_flops(inner, w[stage], 3, h, wd);
      if (down || in != w[stage]) total += conv_flops(in, w[stage], 1, h, wd);
      in = w[stage];
    }
  }
  return total + linear_flops(in, s.classes);
}

}  // namespace xfed
