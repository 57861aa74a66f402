#include "pruning/class_stats.h"

#include "pruning/bf16.h"
#include "pruning/gram.h"
#include "core/parse.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace xfed::pruning {
namespace {

void put_doubles(ByteWriter& w, const at::Tensor& t) {
  const auto c = t.contiguous();
  w.put_bytes(c.data_ptr<double>(), c.numel() * sizeof(double));
}

bool get_doubles(ByteReader& r, at::Tensor* t) {
  return r.get_bytes(t->data_ptr<double>(), t->numel() * sizeof(double));
}

inline float as_float(float v) { return v; }
inline float as_float(at::BFloat16 v) { return bf16_to_float(v.x); }

// [classes, M] float32 per-class sums of float32 or bfloat16 rows, by a plain loop into a
// buffer that stays in L1 (a GEMM against one-hot labels is only `classes` columns wide,
// and index_add_ pays per-row dispatch).
template <typename T>
at::Tensor class_sums(const at::Tensor& a, const at::Tensor& labels, int64_t classes) {
  auto out = at::zeros({classes, a.size(1)}, at::kFloat);
  const auto rows = a.contiguous();
  const auto y = labels.to(at::kLong).contiguous();
  const int64_t n = rows.size(0), m = rows.size(1);
  const T* src = rows.data_ptr<T>();
  const int64_t* cls = y.data_ptr<int64_t>();
  float* dst = out.data_ptr<float>();
  for (int64_t r = 0; r < n; ++r) {
    XFED_CHECK(cls[r] >= 0 && cls[r] < classes, "ClassStats: label " + std::to_string(cls[r]) + " out of range");
    float* d = dst + cls[r] * m;
    const T* s = src + r * m;
    for (int64_t j = 0; j < m; ++j) d[j] += as_float(s[j]);
  }
  return out;
}

at::Tensor class_sums_of(const at::Tensor& a, const at::Tensor& labels, int64_t classes) {
  if (a.scalar_type() == at::kDouble)
    return at::zeros({classes, a.size(1)}, a.options()).index_add_(0, labels, a);
  if (a.scalar_type() == at::kBFloat16) return class_sums<at::BFloat16>(a, labels, classes);
  return class_sums<float>(a, labels, classes);
}

// The activations as accumulated: float64 as they are; others rounded to bfloat16, or as
// float32 (bfloat16 input stays bfloat16).
at::Tensor rows_to_add(const at::Tensor& a, ClassStats::Rounding rounding) {
  const auto type = a.scalar_type();
  if (type == at::kDouble || type == at::kBFloat16) return a;
  if (rounding == ClassStats::Rounding::kBf16) return a.to(at::kBFloat16);
  return a.to(at::kFloat);
}

}  // namespace

ClassStats ClassStats::zeros(int64_t units, int64_t classes) {
  return ClassStats{at::zeros({classes}, at::kDouble), at::zeros({units, classes}, at::kDouble),
                    at::zeros({units, units}, at::kDouble)};
}

double ClassStats::samples() const { return counts.sum().item<double>(); }

Status ClassStats::check_consistent(int64_t samples_sent, bool noised) const {
  if ((counts != counts.round()).any().item<bool>()) return Status::corruption("class counts that are not whole");
  const double total = samples();
  if (samples_sent <= 0 || total <= 0 || std::fmod(total, static_cast<double>(samples_sent)) != 0)
    return Status::corruption("class counts total " + short_number(total) + " for " + std::to_string(samples_sent) +
                              " samples");
  const auto unseen = counts == 0;
  if (!noised && (sums.index({at::indexing::Slice(), unseen}) != 0).any().item<bool>())
    return Status::corruption("activation sums for a class with no samples");
  if (noised) return Status::ok();
  const auto between = (sums * sums / counts.clamp_min(1)).sum(1);  // sum_l s_jl^2 / n_l
  const auto diag = second.diagonal();
  const auto short_by = between - diag - 1e-3 * diag.abs() - 1e-12;
  if ((short_by > 0).any().item<bool>())
    return Status::corruption("second moments smaller than the activation sums imply (unit " +
                              std::to_string(short_by.argmax().item<int64_t>()) + ")");
  return Status::ok();
}

void ClassStats::accumulate(const at::Tensor& activations, const at::Tensor& labels, Rounding rounding) {
  XFED_CHECK_EQ(activations.size(1), units(), "ClassStats: unit count");
  XFED_CHECK_EQ(activations.size(0), labels.size(0), "ClassStats: one label per row");
  const auto rows = rows_to_add(activations, rounding);  // the Gram and the sums see the same values
  accumulate_gram(second, rows);
  // Class sums in float32 over at most kFloat32SumRows rows each (the bound in gram.h).
  const int64_t n = rows.size(0);
  for (int64_t start = 0; start < n; start += kFloat32SumRows) {
    const int64_t len = std::min(kFloat32SumRows, n - start);
    const auto per_class = class_sums_of(rows.narrow(0, start, len), labels.narrow(0, start, len), classes());
    sums.add_(per_class.t().to(at::kDouble));
  }
  counts.add_(at::bincount(labels, {}, classes()).to(at::kDouble));
}

ClassStats& ClassStats::operator+=(const ClassStats& o) {
  XFED_CHECK(o.units() == units() && o.classes() == classes(), "ClassStats: shape mismatch");
  counts += o.counts;
  sums += o.sums;
  second += o.second;
  return *this;
}

void ClassStats::add_noise(double sigma, uint64_t seed) {
  if (sigma <= 0) return;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  sums.add_(at::normal(0.0, sigma, sums.sizes(), gen, at::kDouble));
  auto noise = at::normal(0.0, sigma, second.sizes(), gen, at::kDouble);
  second.add_((noise + noise.t()) / std::sqrt(2.0));  // symmetric, same variance
}

ClassStats ClassStats::select_units(const std::vector<int64_t>& kept) const {
  const auto idx = at::tensor(kept, at::kLong);
  return ClassStats{counts.clone(), sums.index_select(0, idx),
                    second.index_select(0, idx).index_select(1, idx)};
}

// The second moment is symmetric: only its upper triangle (row-major) is written.
void ClassStats::write(ByteWriter& w) const {
  w.put_varint(static_cast<uint64_t>(units()));
  w.put_varint(static_cast<uint64_t>(classes()));
  put_doubles(w, counts);
  put_doubles(w, sums);
  const auto iu = at::triu_indices(units(), units(), 0, at::kLong);
  put_doubles(w, second.index({iu[0], iu[1]}));
}

Result<ClassStats> ClassStats::read(ByteReader& r, int64_t max_units, int64_t max_classes) {
  uint64_t m, l;
  if (!r.get_varint(&m) || !r.get_varint(&l)) return Status::corruption("truncated class statistics");
  if (m == 0 || l == 0 || m > static_cast<uint64_t>(max_units) || l > static_cast<uint64_t>(max_classes))
    return Status::corruption("class statistics of " + std::to_string(m) + " units x " +
                         std::to_string(l) + " classes, expected at most " +
                         std::to_string(max_units) + " x " + std::to_string(max_classes));
  const auto units = static_cast<int64_t>(m);
  auto s = ClassStats::zeros(units, static_cast<int64_t>(l));
  auto upper = at::empty({units * (units + 1) / 2}, at::kDouble);
  if (!get_doubles(r, &s.counts) || !get_doubles(r, &s.sums) || !get_doubles(r, &upper))
    return Status::corruption("truncated class statistics");
  const auto iu = at::triu_indices(units, units, 0, at::kLong);
  s.second.index_put_({iu[0], iu[1]}, upper);
  s.second.index_put_({iu[1], iu[0]}, upper);
  if (!at::isfinite(s.second).all().item<bool>() || !at::isfinite(s.sums).all().item<bool>() ||
      !at::isfinite(s.counts).all().item<bool>() || (s.counts < 0).any().item<bool>())
    return Status::corruption("class statistics hold non-finite or negative values");
  return s;
}

}  // namespace xfed::pruning
