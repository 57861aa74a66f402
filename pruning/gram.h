// Gram-matrix accumulation for ClassStats: acc (float64 M x M) += a^T a for a batch
// a [n, M], by the batch's type:
//   - bfloat16: on bf16 matrix units through oneDNN when the CPU has them (AMX: ~2.7x
//     faster than float32 SSYRK at M = 300), else float32 BLAS SSYRK on the same values
//     (products of bf16 values are exact in float32, so both agree to float32 summation);
//   - float32: float32 BLAS SSYRK (upper triangle only: half a GEMM's work);
//   - float64: a float64 GEMM (exact path: tests, the offline tool).
// Float32 sums run over at most 4096 rows; each partial is added to the float64
// accumulator, which holds the sum across batches and stays exactly symmetric.
//
// Error bound (what tests assert): products of bfloat16 values are exact in float32, so the
// only error is float32 summation. A recursive sum of k terms errs by at most
// gamma_k * sum|terms|, gamma_k = k*u/(1 - k*u), u = 2^-24, and by Cauchy-Schwarz
// sum_r |a_ri a_rj| <= sqrt(Q_ii Q_jj). With k <= kFloat32SumRows, one accumulation of a
// float32 or bfloat16 batch is within float32_sum_bound() * sqrt(Q_ii Q_jj) of the exact
// Gram matrix of the (rounded) values, whatever kernel the CPU takes; the float64 sums
// across chunks add ~1e-16 relative. Class sums (class_stats.cc) obey the same bound with
// sum_r |a_rj| <= sqrt(N_l Q_jj).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace xfed::pruning {

constexpr int64_t kFloat32SumRows = 4096;

// gamma_k for k = kFloat32SumRows float32 additions (~2.4e-4).
constexpr double float32_sum_bound() {
  constexpr double k_u = static_cast<double>(kFloat32SumRows) / (1 << 24);
  return k_u / (1 - k_u);
}

void accumulate_gram(at::Tensor& acc, const at::Tensor& batch);

// Which kernel float32/bfloat16 Gram matrices take in this process: "bf16 matrix units
// (oneDNN)" or "float32 BLAS SSYRK" (logged once by the workers' statistics).
const char* gram_path_name();

}  // namespace xfed::pruning
