#include "pruning/class_stats.h"

#include "pruning/gram.h"

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

}  // namespace

ClassStats ClassStats::zeros(int64_t units, int64_t classes) {
  return ClassStats{at::zeros({classes}, at::kDouble), at::zeros({units, classes}, at::kDouble),
                    at::zeros({units, units}, at::kDouble)};
}

double ClassStats::samples() const { return counts.sum().item<double>(); }

void ClassStats::accumulate(const at::Tensor& activations, const at::Tensor& labels) {
  XFED_CHECK_EQ(activations.size(1), units(), "ClassStats: unit count");
  accumulate_gram(second, activations);
  // Class sums as one small GEMM against one-hot labels, at the activations' precision,
  // added to the float64 sums (exact per batch for float32 inputs of moderate size).
  const auto onehot = at::one_hot(labels, classes()).to(activations.scalar_type());
  sums.add_(activations.t().mm(onehot).to(at::kDouble));
  counts.add_(onehot.sum(0).to(at::kDouble));
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
  if (!r.get_varint(&m) || !r.get_varint(&l)) return Status::error("truncated class statistics");
  if (m == 0 || l == 0 || m > static_cast<uint64_t>(max_units) || l > static_cast<uint64_t>(max_classes))
    return Status::error("class statistics of " + std::to_string(m) + " units x " +
                         std::to_string(l) + " classes, expected at most " +
                         std::to_string(max_units) + " x " + std::to_string(max_classes));
  const auto units = static_cast<int64_t>(m);
  auto s = ClassStats::zeros(units, static_cast<int64_t>(l));
  auto upper = at::empty({units * (units + 1) / 2}, at::kDouble);
  if (!get_doubles(r, &s.counts) || !get_doubles(r, &s.sums) || !get_doubles(r, &upper))
    return Status::error("truncated class statistics");
  const auto iu = at::triu_indices(units, units, 0, at::kLong);
  s.second.index_put_({iu[0], iu[1]}, upper);
  s.second.index_put_({iu[1], iu[0]}, upper);
  if (!at::isfinite(s.second).all().item<bool>() || !at::isfinite(s.sums).all().item<bool>() ||
      (s.counts < 0).any().item<bool>())
    return Status::error("class statistics hold non-finite or negative values");
  return s;
}

}  // namespace xfed::pruning
