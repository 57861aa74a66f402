// Server optimizers: how the coordinator applies the clients' mean update to the global
// model (Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2).
//
// With d = weighted mean of client deltas (w_local - w_round):
//   fedavg : w += lr * d
//   fedavgm: v = beta1 * v + d;                                 w += lr * v
//   fedadam: m = b1 m + (1-b1) d;  v = b2 v + (1-b2) d^2;        w += lr * m / (sqrt(v) + tau)
//   fedyogi: m as adam;            v = v - (1-b2) d^2 sign(v - d^2); same step
// Only the parameter range [0, param_count) of the flat state goes through the optimizer;
// buffers (BN statistics) that follow are averaged (w += d). Adam/Yogi state starts at
// v = tau^2, as in the paper. Not thread-safe; owned by the coordinator.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace xfed::coordinator {

struct ServerOptimizerOptions {
  enum class Kind { kFedAvg, kFedAvgM, kFedAdam, kFedYogi };
  Kind kind = Kind::kFedAvg;
  double lr = 1.0;       // server learning rate (fedadam/fedyogi default to 0.01 in the CLI)
  double beta1 = 0.9;    // momentum (fedavgm) / first moment
  double beta2 = 0.99;
  double tau = 1e-3;
};

class ServerOptimizer {
 public:
  ServerOptimizer(ServerOptimizerOptions options, int64_t param_count);
  // Applies the mean delta to the flat float32 state `weights` in place.
  void step(at::Tensor& weights, const at::Tensor& mean_delta);

  // Optimizer state for checkpoints (empty for fedavg).
  std::vector<at::Tensor> state() const;
  Status load_state(const std::vector<at::Tensor>& state);
  // The model was pruned: keep the moments of the surviving parameters.
  void remap(const at::Tensor& gather, int64_t new_param_count);
  // A different model (resume of a pruned run): no moments, new size.
  void reset(int64_t param_count);
  const ServerOptimizerOptions& options() const { return options_; }

 private:
  ServerOptimizerOptions options_;
  int64_t param_count_;
  at::Tensor m_, v_;
};

}  // namespace xfed::coordinator
