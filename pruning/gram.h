// Gram-matrix accumulation for ClassStats: acc (float64 M x M) += a^T a for a batch
// a [n, M]. Float32 batches use BLAS ssyrk (upper triangle only: half a GEMM's work) and
// are added to the float64 accumulator, so float64 holds the sum across batches; float64
// batches use a float64 GEMM (exact path, used by tests and the offline tool).
#pragma once

#include <ATen/core/Tensor.h>

namespace xfed::pruning {

void accumulate_gram(at::Tensor& acc, const at::Tensor& batch);

}  // namespace xfed::pruning
