#include "coordinator/server_optimizer.h"

#include <ATen/ATen.h>

#include "core/check.h"

namespace xfed::coordinator {
namespace {

class FedAvg final : public ServerRule {
 public:
  void step(at::Tensor& w, const at::Tensor& d, double lr, std::vector<at::Tensor>&) const override { w.add_(d, lr); }
};

// Momentum and the moment rules share their state: m (first moment or momentum) and
// v = tau^2 at the start (fedavgm does not use v; its checkpoints have always held it).
class Moments : public ServerRule {
 public:
  Moments(double beta1, double beta2, double tau) : beta1_(beta1), beta2_(beta2), tau_(tau) {}
  size_t state_count() const override { return 2; }
  std::vector<at::Tensor> initial_state(const at::Tensor& d) const override {
    return {at::zeros_like(d), at::full_like(d, tau_ * tau_)};
  }

 protected:
  double beta1_, beta2_, tau_;
};

class FedAvgM final : public Moments {
 public:
  using Moments::Moments;
  void step(at::Tensor& w, const at::Tensor& d, double lr, std::vector<at::Tensor>& s) const override {
    s[0].mul_(beta1_).add_(d);
    w.add_(s[0], lr);
  }
};

// fedadam (yogi = false) and fedyogi: they differ in how v follows d^2.
class Adaptive final : public Moments {
 public:
  Adaptive(double beta1, double beta2, double tau, bool yogi) : Moments(beta1, beta2, tau), yogi_(yogi) {}
  void step(at::Tensor& w, const at::Tensor& d, double lr, std::vector<at::Tensor>& s) const override {
    auto& m = s[0];
    auto& v = s[1];
    m.mul_(beta1_).add_(d, 1.0 - beta1_);
    const auto d2 = d * d;
    if (yogi_) {
      v.sub_(d2 * at::sign(v - d2), 1.0 - beta2_);
    } else {
      v.mul_(beta2_).add_(d2, 1.0 - beta2_);
    }
    w.add_(m / (v.sqrt() + tau_), lr);
  }

 private:
  bool yogi_;
};

}  // namespace

std::shared_ptr<const ServerRule> fedavg_rule() { return std::make_shared<FedAvg>(); }
std::shared_ptr<const ServerRule> fedavgm_rule(double beta1) { return std::make_shared<FedAvgM>(beta1, 0.99, 1e-3); }
std::shared_ptr<const ServerRule> fedadam_rule(double beta1, double beta2, double tau) {
  return std::make_shared<Adaptive>(beta1, beta2, tau, false);
}
std::shared_ptr<const ServerRule> fedyogi_rule(double beta1, double beta2, double tau) {
  return std::make_shared<Adaptive>(beta1, beta2, tau, true);
}

ServerOptimizer::ServerOptimizer(std::shared_ptr<const ServerRule> rule, double lr, int64_t param_count)
    : rule_(rule ? std::move(rule) : fedavg_rule()), lr_(lr), param_count_(param_count) {}

void ServerOptimizer::step(at::Tensor& weights, const at::Tensor& mean_delta) {
  XFED_CHECK_EQ(weights.numel(), mean_delta.numel(), "server step: size mismatch");
  auto w = weights.narrow(0, 0, param_count_);
  const auto d = mean_delta.narrow(0, 0, param_count_);
  if (weights.numel() > param_count_) {  // buffers: plain average
    const int64_t nb = weights.numel() - param_count_;
    weights.narrow(0, param_count_, nb).add_(mean_delta.narrow(0, param_count_, nb));
  }
  if (state_.empty() && rule_->state_count() > 0) {
    state_ = rule_->initial_state(d);
    XFED_CHECK_EQ(state_.size(), rule_->state_count(), "server rule: initial state of the wrong size");
  }
  rule_->step(w, d, lr_, state_);
}

void ServerOptimizer::remap(const at::Tensor& gather, int64_t new_param_count) {
  param_count_ = new_param_count;
  for (auto& t : state_) t = t.index_select(0, gather.narrow(0, 0, new_param_count));
}

void ServerOptimizer::reset(int64_t param_count) {
  param_count_ = param_count;
  state_.clear();
}

Status ServerOptimizer::load_state(const std::vector<at::Tensor>& state) {
  std::vector<at::Tensor> loaded;
  for (const auto& t : state) {
    if (t.numel() != param_count_) return Status::error("server optimizer state does not match the model");
    loaded.push_back(t.clone());
  }
  if (!loaded.empty() && loaded.size() != rule_->state_count())
    return Status::error("server optimizer state does not match the model");
  state_ = std::move(loaded);
  return Status::ok();
}

}  // namespace xfed::coordinator
