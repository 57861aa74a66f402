#include "compression/shared_matrix.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace xfed::compression {
namespace {

float at(const DenseMatrix& m, int64_t r, int64_t c) { return m.values[static_cast<size_t>(r * m.cols + c)]; }

// The distinct nonzero values, most frequent first (ties: the smaller value first), and
// each value's place in that order.
std::vector<float> codebook_of(const DenseMatrix& m, std::map<float, uint32_t>* rank) {
  std::map<float, int64_t> counts;
  for (float v : m.values)
    if (v != 0.0f) ++counts[v];
  std::vector<std::pair<float, int64_t>> order(counts.begin(), counts.end());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<float> book;
  for (const auto& [v, n] : order) {
    (*rank)[v] = static_cast<uint32_t>(book.size());
    book.push_back(v);
  }
  return book;
}

CerMatrix to_shared(const DenseMatrix& m, bool named) {
  CerMatrix out;
  out.rows = m.rows;
  out.cols = m.cols;
  out.named_values = named;
  std::map<float, uint32_t> rank;
  out.codebook = codebook_of(m, &rank);
  out.row_start.push_back(0);
  out.segment_start.push_back(0);
  for (int64_t r = 0; r < m.rows; ++r) {
    std::vector<std::pair<uint32_t, uint32_t>> row;  // (value's rank, column)
    for (int64_t c = 0; c < m.cols; ++c)
      if (const float v = at(m, r, c); v != 0.0f) row.push_back({rank.at(v), static_cast<uint32_t>(c)});
    std::sort(row.begin(), row.end());
    size_t i = 0;
    const uint32_t last = row.empty() ? 0 : row.back().first + 1;
    for (uint32_t k = 0; k < last; ++k) {
      const size_t begin = i;
      while (i < row.size() && row[i].first == k) out.columns.push_back(row[i++].second);
      if (named && i == begin) continue;  // CSER lists only the values a row holds
      if (named) out.value_index.push_back(k);
      out.segment_start.push_back(static_cast<uint32_t>(out.columns.size()));
    }
    out.row_start.push_back(static_cast<uint32_t>(out.segment_start.size() - 1));
  }
  return out;
}

bool fits(const std::vector<float>& x, int64_t cols, int64_t n) {
  return cols >= 0 && n >= 1 && static_cast<uint64_t>(x.size()) == static_cast<uint64_t>(cols) * static_cast<uint64_t>(n);
}

Status size_error(const char* format, size_t x, int64_t cols, int64_t n) {
  return Status::usage(std::string(format) + ": an input of " + std::to_string(x) + " values for " +
                       std::to_string(cols) + " columns x " + std::to_string(n));
}

// acc[j] += w x[j] in float64.
void add_scaled(double* acc, float w, const float* x, int64_t n) {
  const double wd = w;
  for (int64_t j = 0; j < n; ++j) acc[j] += wd * x[j];
}

// The float64 accumulators of a product's rows, each rounded to float32 once at the end.
class Rows {
 public:
  Rows(int64_t rows, int64_t n) : n_(n), acc_(static_cast<size_t>(std::max<int64_t>(rows, 0) * n)) {}
  double* row(int64_t r) { return acc_.data() + r * n_; }  // zeros until added to
  std::vector<float> rounded() const { return std::vector<float>(acc_.begin(), acc_.end()); }

 private:
  int64_t n_;
  std::vector<double> acc_;
};

// Pointers of `parts` + 1 entries: from 0, increasing, ending at `end`.
bool pointers_ok(const std::vector<uint32_t>& p, size_t parts, size_t end) {
  if (p.size() != parts + 1 || p.front() != 0 || p.back() != end) return false;
  return std::is_sorted(p.begin(), p.end());
}

}  // namespace

CsrMatrix to_csr(const DenseMatrix& m) {
  CsrMatrix out;
  out.rows = m.rows;
  out.cols = m.cols;
  out.row_start.push_back(0);
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t c = 0; c < m.cols; ++c)
      if (const float v = at(m, r, c); v != 0.0f) {
        out.values.push_back(v);
        out.columns.push_back(static_cast<uint32_t>(c));
      }
    out.row_start.push_back(static_cast<uint32_t>(out.values.size()));
  }
  return out;
}

CerMatrix to_cer(const DenseMatrix& m) { return to_shared(m, false); }
CerMatrix to_cser(const DenseMatrix& m) { return to_shared(m, true); }

Result<std::vector<float>> multiply(const DenseMatrix& m, const std::vector<float>& x) {
  return multiply_columns(m, x, 1);
}
Result<std::vector<float>> multiply(const CsrMatrix& m, const std::vector<float>& x) {
  return multiply_columns(m, x, 1);
}
Result<std::vector<float>> multiply(const CerMatrix& m, const std::vector<float>& x) {
  return multiply_columns(m, x, 1);
}

Result<std::vector<float>> multiply_columns(const DenseMatrix& m, const std::vector<float>& x, int64_t n) {
  if (!fits(x, m.cols, n)) return size_error("dense", x.size(), m.cols, n);
  if (m.rows < 0 || static_cast<int64_t>(m.values.size()) != m.rows * m.cols) return Status::usage("dense: a bad shape");
  Rows rows(m.rows, n);
  for (int64_t r = 0; r < m.rows; ++r) {
    double* acc = rows.row(r);
    for (int64_t c = 0; c < m.cols; ++c) add_scaled(acc, at(m, r, c), x.data() + c * n, n);
  }
  return rows.rounded();
}

Result<std::vector<float>> multiply_columns(const CsrMatrix& m, const std::vector<float>& x, int64_t n) {
  if (!fits(x, m.cols, n)) return size_error("CSR", x.size(), m.cols, n);
  if (auto st = check(m); !st) return st;
  Rows rows(m.rows, n);
  for (int64_t r = 0; r < m.rows; ++r) {
    double* acc = rows.row(r);
    for (uint32_t i = m.row_start[r]; i < m.row_start[r + 1]; ++i)
      add_scaled(acc, m.values[i], x.data() + int64_t{m.columns[i]} * n, n);
  }
  return rows.rounded();
}

Result<std::vector<float>> multiply_columns(const CerMatrix& m, const std::vector<float>& x, int64_t n) {
  if (!fits(x, m.cols, n)) return size_error(m.named_values ? "CSER" : "CER", x.size(), m.cols, n);
  if (auto st = check(m); !st) return st;
  Rows rows(m.rows, n);
  std::vector<double> sum(static_cast<size_t>(n));  // the inputs that share one value
  for (int64_t r = 0; r < m.rows; ++r) {
    double* acc = rows.row(r);
    for (uint32_t s = m.row_start[r]; s < m.row_start[r + 1]; ++s) {
      if (m.segment_start[s] == m.segment_start[s + 1]) continue;
      std::fill(sum.begin(), sum.end(), 0.0);
      for (uint32_t i = m.segment_start[s]; i < m.segment_start[s + 1]; ++i) {
        const float* xi = x.data() + int64_t{m.columns[i]} * n;
        for (int64_t j = 0; j < n; ++j) sum[j] += xi[j];
      }
      const uint32_t k = m.named_values ? m.value_index[s] : s - m.row_start[r];
      const double v = m.codebook[k];
      for (int64_t j = 0; j < n; ++j) acc[j] += v * sum[j];
    }
  }
  return rows.rounded();
}

Operations operations(const DenseMatrix& m) { return {m.rows * m.cols, m.rows * std::max<int64_t>(m.cols - 1, 0)}; }

Operations operations(const CsrMatrix& m) {
  Operations ops;
  for (int64_t r = 0; r < m.rows; ++r) {
    const int64_t n = m.row_start[r + 1] - m.row_start[r];
    ops.multiplications += n;
    ops.additions += std::max<int64_t>(n - 1, 0);
  }
  return ops;
}

Operations operations(const CerMatrix& m) {
  Operations ops;
  for (int64_t r = 0; r < m.rows; ++r) {
    int64_t terms = 0;
    for (uint32_t s = m.row_start[r]; s < m.row_start[r + 1]; ++s) {
      const int64_t n = m.segment_start[s + 1] - m.segment_start[s];
      if (n == 0) continue;
      ++ops.multiplications;
      ops.additions += n - 1;  // the segment's inputs
      ++terms;
    }
    ops.additions += std::max<int64_t>(terms - 1, 0);  // the row's products
  }
  return ops;
}

Status check(const CsrMatrix& m) {
  if (m.rows < 0 || m.cols < 0 || m.cols > UINT32_MAX) return Status::usage("CSR: a bad shape");
  if (m.values.size() != m.columns.size()) return Status::usage("CSR: values and columns differ in number");
  if (!pointers_ok(m.row_start, static_cast<size_t>(m.rows), m.values.size()))
    return Status::usage("CSR: row pointers out of order or range");
  for (uint32_t c : m.columns)
    if (c >= m.cols) return Status::usage("CSR: column index " + std::to_string(c) + " out of range");
  return Status::ok();
}

Status check(const CerMatrix& m) {
  const char* name = m.named_values ? "CSER" : "CER";
  const auto bad = [&](const std::string& what) { return Status::usage(std::string(name) + ": " + what); };
  if (m.rows < 0 || m.cols < 0 || m.cols > UINT32_MAX) return bad("a bad shape");
  if (m.segment_start.empty() || m.row_start.empty()) return bad("no pointers");
  const size_t segments = m.segment_start.size() - 1;
  if (!pointers_ok(m.row_start, static_cast<size_t>(m.rows), segments)) return bad("row pointers out of order or range");
  if (!pointers_ok(m.segment_start, segments, m.columns.size())) return bad("segment pointers out of order or range");
  for (uint32_t c : m.columns)
    if (c >= m.cols) return bad("column index " + std::to_string(c) + " out of range");
  for (float v : m.codebook)
    if (!std::isfinite(v)) return bad("a codebook value that is not finite");
  if (m.named_values) {
    if (m.value_index.size() != segments) return bad("value indices and segments differ in number");
    for (uint32_t k : m.value_index)
      if (k >= m.codebook.size()) return bad("value index " + std::to_string(k) + " out of range");
  } else {
    if (!m.value_index.empty()) return bad("value indices without named values");
    for (int64_t r = 0; r < m.rows; ++r)
      if (m.row_start[r + 1] - m.row_start[r] > m.codebook.size()) return bad("a row with more segments than values");
  }
  return Status::ok();
}

}  // namespace xfed::compression
