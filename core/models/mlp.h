// Mlp: fully connected classifier, LeNet-300-100 by default (widths = hidden sizes).
// Input features may be a subset of the pixels (spec.input_kept, from input pruning).
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include "core/model.h"

namespace xfed {

class MlpImpl : public NetImpl {
 public:
  explicit MlpImpl(const ModelSpec& spec);
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>* feats) override;
  std::vector<PrunableLayer> prunable_layers() const override;
  int64_t flops() const override;

 private:
  int64_t in_features() const;
  at::Tensor input_index_;  // kept pixel indices (empty tensor = all)
  torch::nn::ModuleList layers_;
};

}  // namespace xfed
