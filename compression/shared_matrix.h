// Sparse matrices with few distinct values, and their products with a vector (#20): the
// formats of the compact export. After pruning and weight sharing a layer's weight matrix
// holds zeros and a handful of shared values; Wiedemann, Marban, Müller and Samek (2019,
// "Compact and computationally efficient representation of deep neural networks") store it so
// that a dot product first sums the inputs that share a weight and then multiplies once per
// distinct value of the row:
//   CSR   per row, its nonzeros' column indices and values (one multiplication per nonzero)
//   CER   the nonzero values in a codebook ordered by how often they occur (most often first);
//         per row, one segment of column indices per codebook value, in codebook order, up to
//         the row's last value that occurs (a value missing before it: an empty segment)
//   CSER  as CER, but each segment names its codebook value, so a row lists only the values
//         it holds (better when rows hold different values)
// An element equal to zero is never stored. Products are accumulated in float64 and rounded
// to float32 once per output, so every format gives the dense product of the same matrix up
// to float64 rounding (|error| <= n·2^-52·Σ|w x| per output plus the final rounding).
// Operation counts are of one product with one input vector; additions count only sums of two
// stored terms (a row's first term is no addition).
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace xfed::compression {

struct Operations {
  int64_t multiplications = 0;
  int64_t additions = 0;
};

struct DenseMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;  // row-major, rows x cols
};

struct CsrMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;
  std::vector<uint32_t> columns;
  std::vector<uint32_t> row_start;  // rows + 1
};

struct CerMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> codebook;          // distinct nonzero values, most frequent first
  std::vector<uint32_t> columns;        // grouped by row, then by value
  std::vector<uint32_t> segment_start;  // per segment, its first column index (+ one end)
  std::vector<uint32_t> row_start;      // per row, its first segment (rows + 1)
  bool named_values = false;            // CSER: each segment names its value
  std::vector<uint32_t> value_index;    // CSER only: per segment, its codebook value
};

CsrMatrix to_csr(const DenseMatrix& m);
CerMatrix to_cer(const DenseMatrix& m);   // codebook order, segments implied by position
CerMatrix to_cser(const DenseMatrix& m);  // each segment's value named (value_index)

// y = W x for x of `cols` values. A usage error when sizes do not fit.
Result<std::vector<float>> multiply(const DenseMatrix& m, const std::vector<float>& x);
Result<std::vector<float>> multiply(const CsrMatrix& m, const std::vector<float>& x);
Result<std::vector<float>> multiply(const CerMatrix& m, const std::vector<float>& x);  // CER or CSER

// Y = W X for `n` input vectors at once: X is cols x n, row-major (input c's n values side by
// side), Y rows x n. Each column gets exactly the arithmetic of the one-vector product (the
// sums run over the n columns together, which is what makes a batch or a convolution's
// positions fast). A usage error unless x holds cols x n values.
Result<std::vector<float>> multiply_columns(const DenseMatrix& m, const std::vector<float>& x, int64_t n);
Result<std::vector<float>> multiply_columns(const CsrMatrix& m, const std::vector<float>& x, int64_t n);
Result<std::vector<float>> multiply_columns(const CerMatrix& m, const std::vector<float>& x, int64_t n);

Operations operations(const DenseMatrix& m);
Operations operations(const CsrMatrix& m);
Operations operations(const CerMatrix& m);

// Checks what a reader must before multiplying (every index and pointer in range, pointers
// increasing); the error names the array.
Status check(const CsrMatrix& m);
Status check(const CerMatrix& m);

}  // namespace xfed::compression
