// Mlp: fully connected classifier, LeNet-300-100 by default (widths = hidden sizes).
// Prunable layers: "input" (the pixels: input pruning keeps spec.input_kept, indices into
// the original flattened input), then fc1, fc2, ...
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include "core/model.h"

namespace xfed {

class MlpImpl : public NetImpl {
 public:
  explicit MlpImpl(const ModelSpec& spec);
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) override;
  std::vector<PrunableLayer> prunable_layers() const override;
  std::vector<AxisBinding> axis_bindings() const override;
  ModelSpec spec_after(const std::vector<std::vector<int64_t>>& kept) const override;
  int64_t flops() const override;

 private:
  int64_t in_features() const;
  at::Tensor input_index_;  // kept pixel indices (empty tensor = all)
  torch::nn::ModuleList layers_;
};

}  // namespace xfed
