#include "worker/mlp_trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <optional>

#include "core/check.h"
#include "core/models/torchscript.h"
#include "core/pruned_zeros.h"
#include "core/weight_clusters.h"

namespace xfed::worker {
namespace {

// One trainable tensor with its gradient, momentum buffer and (FedProx) round value.
struct Slot {
  at::Tensor param, grad, momentum, round_value;
};

// torch::optim::SGD's rule (dampening 0, no Nesterov) plus the FedProx gradient, fused:
//   d = g + wd p + mu (p - p_round);  m = momentum m + d;  p -= lr m
void sgd_update(Slot& s, const TrainOptions& t) {
  float* p = s.param.data_ptr<float>();
  const float* g = s.grad.data_ptr<float>();
  float* m = s.momentum.data_ptr<float>();
  const float* p0 = t.prox_mu > 0 ? s.round_value.data_ptr<float>() : nullptr;
  const float lr = static_cast<float>(t.lr), mom = static_cast<float>(t.momentum);
  const float wd = static_cast<float>(t.weight_decay), mu = static_cast<float>(t.prox_mu);
  const int64_t n = s.param.numel();
  if (p0) {
    for (int64_t i = 0; i < n; ++i) {
      const float d = g[i] + wd * p[i] + mu * (p[i] - p0[i]);
      m[i] = mom * m[i] + d;
      p[i] -= lr * m[i];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      m[i] = mom * m[i] + g[i] + wd * p[i];
      p[i] -= lr * m[i];
    }
  }
}

class MlpStep {
 public:
  MlpStep(NetImpl& net, const TrainOptions& task) : task_(task) {
    if (task.shared_weights > 0) clusters_.emplace(net);
    if (task.pruned_zeros) pruned_.emplace(net);
    auto params = net.parameters();  // layers.0.weight, layers.0.bias, layers.1.weight, ...
    for (size_t i = 0; i < params.size(); ++i) {
      Slot s{params[i], at::empty_like(params[i]), at::zeros_like(params[i]), {}};
      if (task.prox_mu > 0) s.round_value = params[i].detach().clone();
      (i % 2 == 0 ? weights_ : biases_).push_back(std::move(s));
    }
  }

  // One SGD step on a batch; returns the batch's mean cross-entropy.
  double step(const at::Tensor& x, const at::Tensor& y) {
    const int64_t layers = static_cast<int64_t>(weights_.size());
    std::vector<at::Tensor> acts{x};
    for (int64_t l = 0; l < layers; ++l) {
      auto z = at::addmm(biases_[l].param, acts.back(), weights_[l].param.t());
      if (l + 1 < layers) z.relu_();
      acts.push_back(z);
    }
    auto logp = at::log_softmax(acts.back(), 1);
    const auto target = y.unsqueeze(1);
    const double loss = -logp.gather(1, target).mean().item<double>();
    const auto batch = static_cast<double>(x.size(0));
    auto g = logp.exp_().scatter_add_(1, target, at::full({x.size(0), 1}, -1.0f)).div_(batch);
    for (int64_t l = layers - 1; l >= 0; --l) {
      at::mm_out(weights_[l].grad, g.t(), acts[l]);
      if (clusters_) clusters_->share_gradient(weights_[l].param, weights_[l].grad);
      if (pruned_) pruned_->apply(weights_[l].param, weights_[l].grad);
      at::sum_out(biases_[l].grad, g, {0});
      if (l > 0) g = at::threshold_backward(at::mm(g, weights_[l].param), acts[l], 0);
    }
    for (auto& s : weights_) sgd_update(s, task_);
    for (auto& s : biases_) sgd_update(s, task_);
    return loss;
  }

 private:
  const TrainOptions& task_;
  std::optional<ParameterClusters> clusters_;  // shared weights: the gradient averaged per cluster
  std::optional<PrunedZeroGradients> pruned_;  // pruned zeros: their gradient zero
  std::vector<Slot> weights_, biases_;
};

}  // namespace

bool is_plain_mlp(const NetImpl& net) {
  const bool builtin = net.spec().arch == "mlp" && net.buffers().empty() &&
                       net.parameters().size() == 2 * (net.spec().widths.size() + 1);
  return builtin || is_scripted_mlp(net);
}

TrainResult train_mlp(NetImpl& net, const Dataset& data, const TrainOptions& task) {
  XFED_CHECK(is_plain_mlp(net), "train_mlp on a non-MLP model");
  torch::NoGradGuard no_grad;
  const auto& spec = net.spec();
  auto features = data.images.reshape({data.size(), -1});
  if (!spec.input_kept.empty())
    features = features.index_select(1, at::tensor(spec.input_kept, at::kLong));
  MlpStep step(net, task);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(task.seed);
  const int64_t n = data.size();
  double loss_sum = 0;
  int64_t batches = 0;
  for (int64_t epoch = 0; epoch < task.local_epochs; ++epoch) {
    const auto perm = at::randperm(n, gen, at::kLong);  // same draws as train_autograd
    for (int64_t start = 0; start < n; start += task.batch) {
      const int64_t len = std::min<int64_t>(task.batch, n - start);
      const auto idx = perm.narrow(0, start, len);
      loss_sum += step.step(features.index_select(0, idx), data.labels.index_select(0, idx));
      ++batches;
    }
  }
  return TrainResult{n, batches ? loss_sum / batches : 0.0};
}

}  // namespace xfed::worker
