#include "core/models/mlp.h"

#include <ATen/ATen.h>

#include "core/check.h"

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

at::Tensor MlpImpl::forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) {
  auto h = x.flatten(1);
  if (input_index_.defined()) h = h.index_select(1, input_index_);
  if (taps) taps->push_back(h);
  const size_t hidden = layers_->size() - 1;
  for (size_t i = 0; i < hidden; ++i) {
    h = layers_[i]->as<torch::nn::Linear>()->forward(h).relu_();
    if (taps) taps->push_back(h);
  }
  return layers_[hidden]->as<torch::nn::Linear>()->forward(h);
}

std::vector<PrunableLayer> MlpImpl::prunable_layers() const {
  std::vector<PrunableLayer> out{{"input", in_features()}};
  for (size_t i = 0; i < spec().widths.size(); ++i)
    out.push_back({"fc" + std::to_string(i + 1), spec().widths[i]});
  return out;
}

std::vector<AxisBinding> MlpImpl::axis_bindings() const {
  std::vector<AxisBinding> b{{"layers.0.weight", 1, 0}};
  for (int i = 1; i <= static_cast<int>(spec().widths.size()); ++i) {
    const std::string own = "layers." + std::to_string(i - 1), next = "layers." + std::to_string(i);
    b.push_back({own + ".weight", 0, i});
    b.push_back({own + ".bias", 0, i});
    b.push_back({next + ".weight", 1, i});
  }
  return b;
}

ModelSpec MlpImpl::spec_after(const std::vector<std::vector<int64_t>>& kept) const {
  ModelSpec s = spec();
  XFED_CHECK_EQ(kept.size(), s.widths.size() + 1, "spec_after: one kept list per layer");
  std::vector<int64_t> pixels;
  for (auto i : kept[0]) pixels.push_back(s.input_kept.empty() ? i : s.input_kept.at(i));
  const int64_t all = s.in_channels * s.height * s.width;
  s.input_kept = static_cast<int64_t>(pixels.size()) == all ? std::vector<int64_t>{} : pixels;
  for (size_t i = 1; i < kept.size(); ++i) s.widths[i - 1] = static_cast<int64_t>(kept[i].size());
  return s;
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
