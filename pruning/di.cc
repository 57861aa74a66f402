#include "pruning/di.h"

#include <ATen/ATen.h>

namespace xfed::pruning {
namespace {

struct Scatter {
  at::Tensor sbar, delta;  // M x M, M x L' (classes with samples)
  double n = 0;
};

Result<Scatter> scatter(const ClassStats& s) {
  auto m = centered_moments(s);
  if (!m) return m.status();
  const auto present = s.counts.gt(0).nonzero().squeeze(1);
  const auto counts = s.counts.index_select(0, present);
  const auto sums = s.sums.index_select(1, present);
  Scatter out{m.value().sbar, (sums / counts - m.value().mean.unsqueeze(1)) * counts.sqrt(), m.value().n};
  return out;
}

double choose_rho(const at::Tensor& sbar, const RhoOptions& o) {
  if (o.absolute > 0) return o.absolute;
  const double m = static_cast<double>(sbar.size(0));
  const double rho = o.scale * sbar.trace().item<double>() / m;
  return rho > 0 ? rho : 1e-12;  // constant activations: any rho > 0 gives finite scores
}

}  // namespace

Result<Moments> centered_moments(const ClassStats& s) {
  const auto present = s.counts.gt(0).nonzero().squeeze(1);
  if (present.numel() == 0) return Status::error("no samples in the class statistics");
  Moments out;
  out.n = s.counts.index_select(0, present).sum().item<double>();
  out.mean = s.sums.index_select(1, present).sum(1) / out.n;
  out.sbar = s.second - out.n * at::outer(out.mean, out.mean);
  out.sbar = (out.sbar + out.sbar.t()) / 2;  // exact symmetry for Cholesky
  return out;
}

Result<DiScores> di_scores(const ClassStats& stats, const RhoOptions& rho_options) {
  auto sc = scatter(stats);
  if (!sc) return sc.status();
  const auto& s = sc.value();
  DiScores out;
  out.rho = choose_rho(s.sbar, rho_options);
  const int64_t m = s.sbar.size(0);
  const auto a = s.sbar + out.rho * at::eye(m, at::kDouble);
  at::Tensor chol, info;
  std::tie(chol, info) = at::linalg_cholesky_ex(a);
  if (info.item<int64_t>() != 0)
    return Status::error("scatter matrix is not positive definite (rho " + std::to_string(out.rho) +
                         "); use a larger rho");
  const auto g = at::cholesky_solve(s.delta, chol);        // A^-1 Delta
  const auto inv_diag = at::cholesky_inverse(chol).diagonal();
  const auto g2 = (g * g).sum(1);
  out.di = (s.delta * g).sum().item<double>();
  out.diloss = 2 * out.rho * g2;
  out.fdr = (s.delta * s.delta).sum(1) / (s.sbar.diagonal() + out.rho);
  out.drop = g2 / inv_diag;
  return out;
}

}  // namespace xfed::pruning
