// Discriminant Information from additive class statistics (Kung & Hou, X-Learning). Pure
// functions of a ClassStats, float64.
//
// With N_l samples of class l, N = sum N_l, mu_l = s_l / N_l, mu = sum s_l / N:
//   Sbar = Q - N mu mu^T                    centered scatter
//   Delta[:, l] = sqrt(N_l) (mu_l - mu)     so that S_B = Delta Delta^T
//   A = Sbar + rho I                        rho = rho_scale * tr(Sbar) / M unless given
//   DI = tr(A^-1 S_B) = sum(Delta o G),     G = A^-1 Delta (Cholesky solve)
//   DiLOSS_i = 2 rho ||G_i||^2              = dDI/d alpha_i, unit i scaled by alpha_i
//   FDR_i = S_B[i,i] / (Sbar[i,i] + rho)    single-unit score
//   drop_i = DI - DI(without i) = ||G_i||^2 / (A^-1)_ii   (exact, >= 0)
// Small DiLOSS / drop = dispensable unit. Classes with no samples are left out. Constant
// activations (tr(Sbar) = 0) get a tiny positive rho so scores stay finite; a layer with
// no samples is an error.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/status.h"
#include "pruning/class_stats.h"

namespace xfed::pruning {

constexpr double kDefaultRhoScale = 5.0;

struct RhoOptions {
  double scale = kDefaultRhoScale;  // rho = scale * tr(Sbar) / M
  double absolute = 0.0;            // > 0: use this rho instead
};

// N, mu and Sbar of a layer's statistics (classes with no samples left out).
struct Moments {
  double n = 0;
  at::Tensor mean;  // float64 [M]
  at::Tensor sbar;  // float64 [M, M], exactly symmetric
};
Result<Moments> centered_moments(const ClassStats& stats);

struct DiScores {
  double di = 0;
  double rho = 0;
  at::Tensor diloss;  // float64 [M]
  at::Tensor fdr;     // float64 [M]
  at::Tensor drop;    // float64 [M]
};

Result<DiScores> di_scores(const ClassStats& stats, const RhoOptions& rho = {});

}  // namespace xfed::pruning
