// The Gram matrix of bfloat16 rows on the CPU's bf16 matrix units, through oneDNN.
//
// bf16_gram(rows, n, m, out): out (float32 [m, m], row-major, full) = rows^T rows for
// rows [n, m] row-major bfloat16 bits, accumulated in float32. One matmul primitive with
// runtime sizes per thread. Returns false when xfed was built without oneDNN or the CPU
// has no bf16 support; the caller then uses float32 BLAS on the same rounded values.
#pragma once

#include <cstdint>

namespace xfed::pruning {

bool bf16_gram(const uint16_t* rows, int64_t n, int64_t m, float* out);

// Process-wide switch (default on) so that tests and benchmarks can run the float32 BLAS
// path on the same machine; off makes bf16_gram return false.
void use_bf16_units(bool on);

// Whether bf16_gram runs here: built with oneDNN, a CPU with native bf16, and not switched
// off. Tests that run both paths say when this CPU has only one.
bool bf16_units_active();

}  // namespace xfed::pruning
