#include "coordinator/server_optimizer.h"

#include <ATen/ATen.h>

namespace xfed::coordinator {

using Kind = ServerOptimizerOptions::Kind;

ServerOptimizer::ServerOptimizer(ServerOptimizerOptions options, int64_t param_count)
    : options_(options), param_count_(param_count) {}

void ServerOptimizer::step(at::Tensor& weights, const at::Tensor& mean_delta) {
  XFED_CHECK_EQ(weights.numel(), mean_delta.numel(), "server step: size mismatch");
  const auto& o = options_;
  auto w = weights.narrow(0, 0, param_count_);
  const auto d = mean_delta.narrow(0, 0, param_count_);
  if (weights.numel() > param_count_) {  // buffers: plain average
    const int64_t nb = weights.numel() - param_count_;
    weights.narrow(0, param_count_, nb).add_(mean_delta.narrow(0, param_count_, nb));
  }
  if (o.kind == Kind::kFedAvg) {
    w.add_(d, o.lr);
    return;
  }
  if (!m_.defined()) {
    m_ = at::zeros_like(d);
    v_ = at::full_like(d, o.tau * o.tau);
  }
  if (o.kind == Kind::kFedAvgM) {
    m_.mul_(o.beta1).add_(d);
    w.add_(m_, o.lr);
    return;
  }
  m_.mul_(o.beta1).add_(d, 1.0 - o.beta1);
  const auto d2 = d * d;
  if (o.kind == Kind::kFedAdam) {
    v_.mul_(o.beta2).add_(d2, 1.0 - o.beta2);
  } else {
    v_.sub_(d2 * at::sign(v_ - d2), 1.0 - o.beta2);
  }
  w.add_(m_ / (v_.sqrt() + o.tau), o.lr);
}

void ServerOptimizer::remap(const at::Tensor& gather, int64_t new_param_count) {
  param_count_ = new_param_count;
  if (!m_.defined()) return;
  m_ = m_.index_select(0, gather.narrow(0, 0, new_param_count));
  v_ = v_.index_select(0, gather.narrow(0, 0, new_param_count));
}

void ServerOptimizer::reset(int64_t param_count) {
  param_count_ = param_count;
  m_ = v_ = at::Tensor();
}

std::vector<at::Tensor> ServerOptimizer::state() const {
  if (!m_.defined()) return {};
  return {m_, v_};
}

Status ServerOptimizer::load_state(const std::vector<at::Tensor>& state) {
  if (state.empty()) {
    m_ = v_ = at::Tensor();
    return Status::ok();
  }
  if (state.size() != 2 || state[0].numel() != param_count_ || state[1].numel() != param_count_)
    return Status::error("server optimizer state does not match the model");
  m_ = state[0].clone();
  v_ = state[1].clone();
  return Status::ok();
}

}  // namespace xfed::coordinator
