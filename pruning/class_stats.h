// ClassStats: the additive class statistics of one prunable layer's activations.
//
// For M units and L classes, over the samples seen (float64 sums across batches; see
// accumulate for how float32 activations enter):
//   counts[l]  samples of class l                       (L)
//   sums[:, l] sum of the activations of class l        (M x L)
//   second     sum of a a^T                             (M x M)
// These add across clients (operator+=), which is what makes federated DI exact: the
// coordinator sums the clients' statistics and scores units as if it had seen all the data
// (pruning/di.h). Serialized into stats frames; the reader checks every size. Not
// thread-safe; plain data otherwise.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::pruning {

struct ClassStats {
  at::Tensor counts;  // float64 [L]
  at::Tensor sums;    // float64 [M, L]
  at::Tensor second;  // float64 [M, M]

  static ClassStats zeros(int64_t units, int64_t classes);
  int64_t units() const { return sums.size(0); }
  int64_t classes() const { return sums.size(1); }
  double samples() const;

  // How float32 activations enter: rounded to bfloat16 (the default: Gram matrices on bf16
  // matrix units, pruning/bf16.h), or as they are (float32 BLAS). Float64 activations are
  // always added exactly.
  enum class Rounding { kBf16, kNone };

  // activations [n, M], labels [n] int64 in [0, L).
  void accumulate(const at::Tensor& activations, const at::Tensor& labels,
                  Rounding rounding = Rounding::kBf16);
  ClassStats& operator+=(const ClassStats& other);
  // Gaussian noise of std sigma on sums and second moment (client-side privacy).
  void add_noise(double sigma, uint64_t seed);
  // The statistics of a subset of units (e.g. the input features that survived pruning).
  ClassStats select_units(const std::vector<int64_t>& kept) const;

  // What one client's statistics must satisfy whoever sent them: whole counts whose total is
  // a positive multiple of `samples` (the client's sample count; spatial taps count each
  // position), no class seen with a nonzero sum, and, unless noised, second moments no less
  // than the sums imply (per unit, Q_jj >= sum_l s_jl^2 / n_l: the within-class scatter is not
  // negative), to a relative 1e-3 for the bf16 Gram. The error names what is wrong.
  Status check_consistent(int64_t samples, bool noised) const;

  void write(ByteWriter& w) const;
  static Result<ClassStats> read(ByteReader& r, int64_t max_units, int64_t max_classes);
};

}  // namespace xfed::pruning
