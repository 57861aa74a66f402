// Net: the polymorphic model every party trains. Concrete families live in core/models/
// (FooImpl, options from ModelSpec); make_model() builds one from a spec.
//
// A Net exposes what the engine and pruning need and nothing else:
//   - forward_features(x, feats): logits, and optionally the post-activation output of
//     every prunable layer (after BN+ReLU), in prunable_layers() order;
//   - prunable_layers(): name and unit count of each;
//   - flops(): multiply-adds x 2 of conv/linear layers per forward sample.
// Not thread-safe: one Net per training thread (workers build their own from the spec).
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "core/model_spec.h"

namespace xfed {

struct PrunableLayer {
  std::string name;
  int64_t units = 0;
};

class NetImpl : public torch::nn::Module {
 public:
  explicit NetImpl(ModelSpec spec) : spec_(std::move(spec)) {}
  ~NetImpl() override = default;

  at::Tensor forward(const at::Tensor& x) { return forward_features(x, nullptr); }
  virtual at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>* feats) = 0;
  virtual std::vector<PrunableLayer> prunable_layers() const = 0;
  virtual int64_t flops() const = 0;

  const ModelSpec& spec() const { return spec_; }
  int64_t num_params() const;

 private:
  ModelSpec spec_;
};

using Net = std::shared_ptr<NetImpl>;

// Builds a freshly initialized model. Initialization draws from LibTorch's global
// generator: seed it (torch::manual_seed) first where the initial weights matter.
Net make_model(const ModelSpec& spec);

// FLOPs helpers (2 x multiply-adds).
inline int64_t linear_flops(int64_t in, int64_t out) { return 2 * in * out; }
inline int64_t conv_flops(int64_t in, int64_t out, int64_t k, int64_t oh, int64_t ow) {
  return 2 * in * out * k * k * oh * ow;
}

}  // namespace xfed
