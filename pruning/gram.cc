#include "pruning/gram.h"

#include <ATen/ATen.h>

#include "core/check.h"

// The Fortran BLAS routine (OpenBLAS via Debian's libblas.so.3 alternative).
extern "C" void ssyrk_(const char* uplo, const char* trans, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* beta,
                       float* c, const int* ldc);

namespace xfed::pruning {

void accumulate_gram(at::Tensor& acc, const at::Tensor& batch) {
  XFED_CHECK_EQ(batch.size(1), acc.size(0), "accumulate_gram: width");
  if (batch.scalar_type() != at::kFloat) {
    const auto a = batch.to(at::kDouble);
    acc.addmm_(a.t(), a);
    return;
  }
  const auto a = batch.contiguous();  // row-major n x M == column-major M x n
  const int m = static_cast<int>(a.size(1)), k = static_cast<int>(a.size(0));
  if (k == 0) return;
  auto c = at::zeros({m, m}, at::kFloat);
  const float one = 1.0f, zero = 0.0f;
  ssyrk_("U", "N", &m, &k, &one, a.data_ptr<float>(), &m, &zero, c.data_ptr<float>(), &m);
  // Column-major upper = row-major lower triangle (the rest is still zero): mirror it.
  auto full = c + c.t();
  full.diagonal().mul_(0.5f);
  acc.add_(full.to(at::kDouble));
}

}  // namespace xfed::pruning
