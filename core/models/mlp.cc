#include "core/models/mlp.h"

#include <ATen/ATen.h>

namespace xfed {

MlpImpl::MlpImpl(const ModelSpec& spec) : NetImpl(spec) {
  if (!spec.input_kept.empty()) input_index_ = at::tensor(spec.input_kept, at::kLong);
  int64_t in = in_features();
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (auto w : spec.widths) {
    layers_->push_back(torch::nn::Linear(in, w));
    in = w;
  }
  layers_->push_back(torch::nn::Linear(in, spec.classes));
}

int64_t MlpImpl::in_features() const {
  const auto& s = spec();
  return s.input_kept.empty() ? s.in_channels * s.height * s.width
                              : static_cast<int64_t>(s.input_kept.size());
}

at::Tensor MlpImpl::forward_features(const at::Tensor& x, std::vector<at::Tensor>* feats) {
  auto h = x.flatten(1);
  if (input_index_.defined()) h = h.index_select(1, input_index_);
  const size_t hidden = layers_->size() - 1;
  for (size_t i = 0; i < hidden; ++i) {
    h = layers_[i]->as<torch::nn::Linear>()->forward(h).relu_();
    if (feats) feats->push_back(h);
  }
  return layers_[hidden]->as<torch::nn::Linear>()->forward(h);
}

std::vector<PrunableLayer> MlpImpl::prunable_layers() const {
  std::vector<PrunableLayer> out;
  for (size_t i = 0; i < spec().widths.size(); ++i)
    out.push_back({"fc" + std::to_string(i + 1), spec().widths[i]});
  return out;
}

int64_t MlpImpl::flops() const {
  int64_t in = in_features(), total = 0;
  for (auto w : spec().widths) {
    total += linear_flops(in, w);
    in = w;
  }
  return total + linear_flops(in, spec().classes);
}

}  // namespace xfed
