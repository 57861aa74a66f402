// Server optimizers: how the coordinator applies the round's aggregate (the mean delta d of
// the clients, w_local - w_round) to the global model. A rule is a registered piece of a
// strategy (strategy.h); the built-ins follow Reddi et al. 2021, "Adaptive Federated
// Optimization", Algorithm 2:
//   fedavg : w += lr * d
//   fedavgm: v = beta1 * v + d;                                 w += lr * v
//   fedadam: m = b1 m + (1-b1) d;  v = b2 v + (1-b2) d^2;        w += lr * m / (sqrt(v) + tau)
//   fedyogi: m as adam;            v = v - (1-b2) d^2 sign(v - d^2); same step
// Only the parameter range [0, param_count) of the flat state goes through the rule;
// buffers (BN statistics) that follow are averaged (w += d). Adam/Yogi state starts at
// v = tau^2, as in the paper. Not thread-safe; owned by the coordinator.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace xfed::coordinator {

// A rule's state is a list of tensors the size of the parameters: checkpointed, sliced
// with the model when it is pruned, dropped when a resumed run changes the model.
class ServerRule {
 public:
  virtual ~ServerRule() = default;
  // How many state tensors the rule keeps (0: stateless).
  virtual size_t state_count() const { return 0; }
  // The state before the first step: state_count() tensors shaped like `d`.
  virtual std::vector<at::Tensor> initial_state(const at::Tensor& d) const { (void)d; return {}; }
  // Applies d to the parameters w in place with learning rate lr, updating the state.
  virtual void step(at::Tensor& w, const at::Tensor& d, double lr, std::vector<at::Tensor>& state) const = 0;
};

// The built-in rules (beta1, beta2, tau as in the table above).
std::shared_ptr<const ServerRule> fedavg_rule();
std::shared_ptr<const ServerRule> fedavgm_rule(double beta1 = 0.9);
std::shared_ptr<const ServerRule> fedadam_rule(double beta1 = 0.9, double beta2 = 0.99, double tau = 1e-3);
std::shared_ptr<const ServerRule> fedyogi_rule(double beta1 = 0.9, double beta2 = 0.99, double tau = 1e-3);

class ServerOptimizer {
 public:
  ServerOptimizer(std::shared_ptr<const ServerRule> rule, double lr, int64_t param_count);
  // Applies the mean delta to the flat float32 state `weights` in place.
  void step(at::Tensor& weights, const at::Tensor& mean_delta);

  // Optimizer state for checkpoints (empty before the first step and for stateless rules).
  std::vector<at::Tensor> state() const { return state_; }
  Status load_state(const std::vector<at::Tensor>& state);
  // The model was pruned: keep the state of the surviving parameters.
  void remap(const at::Tensor& gather, int64_t new_param_count);
  // A different model (resume of a pruned run): no state, new size.
  void reset(int64_t param_count);

 private:
  std::shared_ptr<const ServerRule> rule_;
  double lr_;
  int64_t param_count_;
  std::vector<at::Tensor> state_;
};

}  // namespace xfed::coordinator
