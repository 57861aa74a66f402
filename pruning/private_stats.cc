#include "pruning/private_stats.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/check.h"

namespace xfed::pruning {
namespace {

// `t` scaled down to Frobenius norm `bound` when above it.
void clip_norm(at::Tensor& t, double bound) {
  const double norm = t.norm().item<double>();
  if (norm > bound) t.mul_(bound / norm);
}

}  // namespace

at::Tensor clip_rows_rms(const at::Tensor& activations, double rms) {
  XFED_CHECK(rms > 0 && activations.dim() == 2, "clip_rows_rms: rows [n, M] and rms > 0");
  const double bound = rms * std::sqrt(static_cast<double>(activations.size(1)));
  const auto norms = activations.to(at::kDouble).norm(2, {1}, /*keepdim=*/true);
  const auto scale = (bound / norms.clamp_min(bound)).to(activations.scalar_type());
  return activations * scale;
}

ClassStats bounded_contribution(const ClassStats& s, double clip) {
  const double n = s.samples();
  if (!(n > 0)) return ClassStats::zeros(s.units(), s.classes());
  ClassStats out{s.counts / n, s.sums / n, s.second / n};
  clip_norm(out.counts, 1.0);
  clip_norm(out.sums, clip);
  clip_norm(out.second, clip * clip);
  return out;
}

void add_private_noise(ClassStats& s, double sigma, double clip, const StandardNormals& normals) {
  const int64_t m = s.units();
  s.counts.add_(normals(s.counts.numel()).view_as(s.counts), sigma);
  s.sums.add_(normals(s.sums.numel()).view_as(s.sums), sigma * clip);
  const auto upper = at::triu_indices(m, m, 0, at::kLong);
  auto noise = at::zeros({m, m}, at::kDouble);
  noise.index_put_({upper[0], upper[1]}, normals(upper.size(1)));
  noise = noise + noise.triu(1).t();
  s.second.add_(noise, sigma * clip * clip);
}

void make_usable(ClassStats& s, double min_count) {
  const auto absent = s.counts < min_count;
  s.counts.masked_fill_(absent, 0.0);
  s.sums.masked_fill_(absent.unsqueeze(0).expand_as(s.sums), 0.0);
  const double n = s.samples();
  if (!(n > 0)) return;  // nothing left: di_scores says so
  const auto mean = s.sums.sum(1) / n;
  const auto outer = n * at::outer(mean, mean);
  auto scatter = s.second - outer;
  scatter = (scatter + scatter.t()) / 2;
  at::Tensor eigenvalues, eigenvectors;
  std::tie(eigenvalues, eigenvectors) = at::linalg_eigh(scatter);
  const auto projected = at::matmul(eigenvectors * eigenvalues.clamp_min(0).unsqueeze(0), eigenvectors.t());
  s.second = (projected + projected.t()) / 2 + outer;
}

}  // namespace xfed::pruning
