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

// Features: the three stage outputs (group units), then each block's inner activation.
at::Tensor ResNet20Impl::forward_features(const at::Tensor& x, std::vector<at::Tensor>* feats) {
  auto h = stem_bn_->forward(stem_->forward(x)).relu_();
  std::vector<at::Tensor> stage_out, inner(blocks_.size());
  for (size_t i = 0; i < blocks_.size(); ++i) {
    h = blocks_[i]->forward(h, feats ? &inner[i] : nullptr);
    if ((i + 1) % kBlocksPerStage == 0) stage_out.push_back(h);
  }
  if (feats) {
    feats->insert(feats->end(), stage_out.begin(), stage_out.end());
    feats->insert(feats->end(), inner.begin(), inner.end());
  }
  return fc_->forward(h.mean({2, 3}));
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
