#include "core/synthetic.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/check.h"

namespace xfed {
namespace {

Dataset draw(const at::Tensor& means, int64_t n, double noise, at::Generator& gen) {
  const int64_t classes = means.size(0);
  auto labels = at::arange(n, at::kLong).remainder(classes);
  labels = labels.index_select(0, at::randperm(n, gen, at::kLong));
  auto x = means.index_select(0, labels);
  const auto eps = at::normal(0.0, 1.0, x.sizes(), gen);
  x.add_(eps, noise);
  return Dataset{x, labels, classes};
}

}  // namespace

TrainTestData make_synthetic(const SyntheticOptions& o) {
  XFED_CHECK(o.classes >= 2 && o.train_size > 0 && o.test_size > 0, "bad synthetic options");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const auto means = at::normal(0.0, 1.0, {o.classes, o.channels, o.height, o.width}, gen);
  TrainTestData data;
  data.name = "synthetic";
  data.train = draw(means, o.train_size, o.noise, gen);
  data.test = draw(means, o.test_size, o.noise, gen);
  return data;
}

}  // namespace xfed
