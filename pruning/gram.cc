#include "pruning/gram.h"

#include <ATen/ATen.h>
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <vector>

#include "core/check.h"
#include "pruning/bf16.h"
#include "pruning/bf16_gram.h"

// The Fortran BLAS routine (OpenBLAS via Debian's libblas.so.3 alternative).
extern "C" void ssyrk_(const char* uplo, const char* trans, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* beta,
                       float* c, const int* ldc);

namespace xfed::pruning {
namespace {

// dst (float64 [m, m]) += the symmetric matrix whose lower triangle (row-major) is in
// `src`. Tiled, so that the transposed writes stay in cache; no temporaries.
void add_lower_symmetric(double* dst, const float* src, int64_t m) {
  constexpr int64_t kTile = 64;
  for (int64_t i0 = 0; i0 < m; i0 += kTile)
    for (int64_t j0 = 0; j0 <= i0; j0 += kTile)
      for (int64_t i = i0; i < std::min(m, i0 + kTile); ++i)
        for (int64_t j = j0; j < std::min(i, j0 + kTile); ++j) {
          const double v = src[i * m + j];
          dst[i * m + j] += v;
          dst[j * m + i] += v;
        }
  for (int64_t i = 0; i < m; ++i) dst[i * m + i] += src[i * m + i];
}

// out = the lower triangle (row-major; column-major upper) of rows^T rows, float32 BLAS.
void blas_gram(const float* rows, int64_t n, int64_t m, float* out) {
  const int mi = static_cast<int>(m), k = static_cast<int>(n);
  const float one = 1.0f, zero = 0.0f;  // beta = 0: only the triangle read later is written
  ssyrk_("U", "N", &mi, &k, &one, rows, &mi, &zero, out, &mi);
}

// rows^T rows for bfloat16 rows: on bf16 matrix units, else float32 BLAS (exact products).
void bf16_rows_gram(const uint16_t* bits, int64_t n, int64_t m, float* out) {
  if (bf16_gram(bits, n, m, out)) return;
  thread_local std::vector<float> rows;
  rows.resize(static_cast<size_t>(n * m));
  std::transform(bits, bits + n * m, rows.begin(), bf16_to_float);
  blas_gram(rows.data(), n, m, out);
}

}  // namespace

void accumulate_gram(at::Tensor& acc, const at::Tensor& batch) {
  XFED_CHECK_EQ(batch.size(1), acc.size(0), "accumulate_gram: width");
  XFED_CHECK(acc.is_contiguous() && acc.scalar_type() == at::kDouble, "accumulate_gram: accumulator");
  const auto type = batch.scalar_type();
  XFED_CHECK(type == at::kDouble || type == at::kFloat || type == at::kBFloat16,
             "accumulate_gram: float64, float32 or bfloat16 rows");
  if (type == at::kDouble) {
    acc.addmm_(batch.t(), batch);
    return;
  }
  const auto a = batch.contiguous();
  const int64_t n = a.size(0), m = a.size(1);
  thread_local std::vector<float> gram;  // reused: fresh pages cost more than the work on them
  gram.resize(static_cast<size_t>(m * m));
  // Float32 sums over at most kFloat32SumRows rows (spatial taps have samples x positions rows),
  // so the float32 rounding stays ~1e-7 of the sum whatever the batch.
  for (int64_t start = 0; start < n; start += kFloat32SumRows) {
    const int64_t rows = std::min(kFloat32SumRows, n - start);
    if (type == at::kBFloat16)
      bf16_rows_gram(reinterpret_cast<const uint16_t*>(a.data_ptr<at::BFloat16>()) + start * m, rows, m,
                     gram.data());
    else
      blas_gram(a.data_ptr<float>() + start * m, rows, m, gram.data());
    // Either path leaves the lower triangle (row-major): acc stays exactly symmetric.
    add_lower_symmetric(acc.data_ptr<double>(), gram.data(), m);
  }
}

const char* gram_path_name() {
  return bf16_units_active() ? "bf16 matrix units (oneDNN)" : "float32 BLAS SSYRK";
}

}  // namespace xfed::pruning
