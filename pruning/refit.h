// Compensation before a cut — the RidgeLSE reading of DI (Kung & Hou, Theorem 1).
//
// When units R of a layer are removed, the layer that consumes them (the next Linear or
// Conv, on its input dimension) is refitted by least squares on the kept units K, from the
// additive statistics a stats round already gathered (pruning/class_stats.h). The consumer
// computes z = W a + b; predicting a_R linearly from a_K,
//   T  = (S_KK + lambda I)^-1 S_KR          S = centered scatter of the layer's activations
//   W' = W_K + W_R T^T,   b' = b + W_R (mu_R - T^T mu_K)
// which is argmin over (W', b') of  sum_i ||W' a_K,i + b' - (W a_i + b)||^2 + lambda ||W' - W_K||^2
// (lambda = 0: the plain least-squares fit of the old outputs on the kept activations).
// lambda = ridge * tr(S) / M keeps T finite for collinear or dead units (pixels, ReLUs).
// A unit that owns a block of columns (conv -> flatten -> linear) or a kernel (conv) uses
// the same T at every position: exact for `spatial` statistics, an approximation for
// pooled ones. Layers with several taps (residual groups) or without statistics are not
// refitted. Pure function: the result is the plan's patches (pruning/structure_plan.h).
#pragma once

#include <vector>

#include "core/model.h"
#include "pruning/evidence.h"
#include "pruning/structure_plan.h"

namespace xfed::pruning {

struct RefitOptions {
  double ridge = 1e-3;  // lambda = ridge * tr(S) / M
};

// The refitted consumer tensors (weights, and their biases) of `model` after `plan`, in the
// slim model's shapes. Empty when nothing is cut where statistics exist.
Result<std::vector<TensorPatch>> refit_consumers(NetImpl& model, const StructurePlan& plan,
                                                 const Evidence& evidence, const RefitOptions& options);

}  // namespace xfed::pruning
