// Gram-matrix accumulation for ClassStats: acc (float64 M x M) += a^T a for a batch
// a [n, M], by the batch's type:
//   - bfloat16: on bf16 matrix units through oneDNN when the CPU has them (AMX: ~2.7x
//     faster than float32 SSYRK at M = 300), else float32 BLAS SSYRK on the same values
//     (products of bf16 values are exact in float32, so both agree to float32 summation);
//   - float32: float32 BLAS SSYRK (upper triangle only: half a GEMM's work);
//   - float64: a float64 GEMM (exact path: tests, the offline tool).
// Float32 sums run over at most 4096 rows; each partial is added to the float64
// accumulator, which holds the sum across batches and stays exactly symmetric.
#pragma once

#include <ATen/core/Tensor.h>

namespace xfed::pruning {

void accumulate_gram(at::Tensor& acc, const at::Tensor& batch);

}  // namespace xfed::pruning
