// Net: the polymorphic model every party trains. Concrete families live in core/models/
// (FooImpl, options from ModelSpec); make_model() builds one from a spec.
//
// A Net exposes what the engine and pruning need and nothing else:
//   - forward_features(x, taps): logits, and optionally the *taps*: post-activation outputs
//     (after BN+ReLU) whose units are the units of a prunable layer; tap_layers()[t] says
//     which layer tap t belongs to (one tap per layer, except residual groups, whose
//     channels appear at several places and are scored as the sum over their taps);
//   - prunable_layers(): name and unit count of each;
//   - axis_bindings(): which dimension of which named tensor (parameter or buffer) is
//     indexed by a layer's units — what structured pruning slices (pruning/surgery.h);
//   - spec_after(kept): the spec of the model that keeps those units of each layer;
//   - flops(): multiply-adds x 2 of conv/linear layers per forward sample.
// Not thread-safe: one Net per training thread (workers build their own from the spec).
#pragma once

#include <torch/nn/module.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/model_spec.h"

namespace xfed {

struct PrunableLayer {
  std::string name;
  int64_t units = 0;
};

// Dimension `dim` of tensor `tensor` is indexed by the units of prunable layer `layer`, each
// unit owning `block` consecutive entries (conv -> flatten -> linear: H*W columns).
struct AxisBinding {
  std::string tensor;
  int dim = 0;
  int layer = 0;
  int64_t block = 1;
};

class NetImpl : public torch::nn::Module {
 public:
  explicit NetImpl(ModelSpec spec) : spec_(std::move(spec)) {}
  ~NetImpl() override = default;

  at::Tensor forward(const at::Tensor& x) { return forward_features(x, nullptr); }
  virtual at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>* taps) = 0;
  // A family that does not override these is trained and compressed like any other, but
  // not prunable (no layers) and not counted in FLOPs (0).
  virtual std::vector<PrunableLayer> prunable_layers() const { return {}; }
  virtual std::vector<int> tap_layers() const;  // default: tap t is layer t
  virtual std::vector<AxisBinding> axis_bindings() const { return {}; }
  // Default: widths[i] = kept[i].size() (prunable layer i is width i).
  virtual ModelSpec spec_after(const std::vector<std::vector<int64_t>>& kept) const;
  virtual int64_t flops() const { return 0; }
  // Whether a training forward draws random numbers from LibTorch's default generator (a
  // TorchScript dropout): the trainer then gives it a per-task stream (worker/local_trainer.cc).
  virtual bool draws_random_numbers() const { return false; }
  // Whether the forward computes the same on convolution weights stored channels-last
  // (no .view() of an activation, no raw memory access): core/channels_last.h then trains
  // and evaluates it on the faster NHWC kernels.
  virtual bool runs_channels_last() const { return false; }

  const ModelSpec& spec() const { return spec_; }
  int64_t num_params() const;
  // BatchNorm layers cannot train on a batch of one sample.
  bool has_batchnorm() const;

 private:
  ModelSpec spec_;
};

using Net = std::shared_ptr<NetImpl>;

// LibTorch's global (default CPU) generator is shared by every thread of the process:
// whoever draws from it or sets it (building a model, which draws its initial weights; a
// TorchScript dropout in training, worker/local_trainer.cc) holds this lock, so that seeded
// draws are never interleaved.
std::mutex& global_generator_mutex();

// Builds a freshly initialized model. Initialization draws from LibTorch's global
// generator: seed it (torch::manual_seed) first where the initial weights matter.
Net make_model(const ModelSpec& spec);
// The run's initial model: make_model after seeding the global generator from `seed`, under
// a lock, so that any party (coordinator or worker, any thread) builds the same weights.
Net make_initial_model(const ModelSpec& spec, uint64_t seed);

// Your own LibTorch model (a NetImpl subclass): register its family once, before the run, and
// every party of the process builds it from a spec with that arch (examples/custom_model.cc).
// `rules` (model_spec.h) say what make_spec checks; by default any widths, as given.
using ModelFactory = std::function<Net(const ModelSpec&)>;
Status register_model(const std::string& arch, ModelFactory factory, FamilyRules rules = {});

// Binds a BatchNorm's weight, bias, running mean and running var (dim 0) to a layer.
void bind_batchnorm(std::vector<AxisBinding>* bindings, const std::string& bn, int layer);

// FLOPs helpers (2 x multiply-adds).
inline int64_t linear_flops(int64_t in, int64_t out) { return 2 * in * out; }
inline int64_t conv_flops(int64_t in, int64_t out, int64_t k, int64_t oh, int64_t ow) {
  return 2 * in * out * k * k * oh * ow;
}

}  // namespace xfed
