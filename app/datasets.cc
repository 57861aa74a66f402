#include "app/datasets.h"

#include <ATen/ATen.h>

#include "core/cifar_reader.h"
#include "core/idx_reader.h"
#include "core/parse.h"
#include "core/registry.h"
#include "core/rng.h"
#include "core/synthetic.h"

namespace xfed::app {
namespace {

constexpr int64_t kMaxSyntheticValues = int64_t{1} << 30;  // 4 GiB of float32

SyntheticOptions synthetic_options(const RunConfig& c) {
  const auto shape = parse_int_list(c.synthetic_shape, 'x', 1, int64_t{1} << 24);
  if (!shape || shape->size() != 3)
    throw UsageError("--synthetic-shape '" + c.synthetic_shape + "': expected CxHxW, e.g. 1x28x28");
  const double values = double((*shape)[0]) * double((*shape)[1]) * double((*shape)[2]) *
                        double(c.synthetic_train + c.synthetic_test);
  if (values > double(kMaxSyntheticValues))
    throw UsageError("--synthetic-shape '" + c.synthetic_shape + "' with " +
                     std::to_string(c.synthetic_train + c.synthetic_test) + " samples: " +
                     short_number(values) + " values, at most " + std::to_string(kMaxSyntheticValues));
  SyntheticOptions o;
  o.channels = (*shape)[0];
  o.height = (*shape)[1];
  o.width = (*shape)[2];
  o.classes = c.synthetic_classes;
  o.train_size = c.synthetic_train;
  o.test_size = c.synthetic_test;
  o.noise = c.synthetic_noise;
  o.seed = mix_seed(c.seed, 101);
  return o;
}

std::string dir_or(const RunConfig& c, const char* fallback) { return c.data_dir.empty() ? fallback : c.data_dir; }

void register_builtin_datasets(Registry<DatasetLoader>& r) {
  r.add("fashion-mnist", [](const RunConfig& c, bool with_test) {
     return load_mnist_dir(dir_or(c, "/usr/share/datasets/fashion-mnist"), "fashion-mnist", 0.2860, 0.3530,
                           with_test);
   }).throw_if_error();
  r.add("mnist", [](const RunConfig& c, bool with_test) {
     return load_mnist_dir(dir_or(c, "/usr/share/datasets/mnist"), "mnist", 0.1307, 0.3081, with_test);
   }).throw_if_error();
  r.add("cifar10", [](const RunConfig& c, bool with_test) {
     return load_cifar10_dir(dir_or(c, "data/cifar-10-batches-bin"), with_test);
   }).throw_if_error();
  r.add("synthetic", [](const RunConfig& c, bool) -> Result<TrainTestData> {
     return make_synthetic(synthetic_options(c));
   }).throw_if_error();
}

Registry<DatasetLoader>& datasets() {
  static Registry<DatasetLoader> r("dataset", register_builtin_datasets);
  return r;
}

// A loader's set as the rest of xfed needs it; `which` is "training" or "test".
Status check_set(const std::string& name, const Dataset& d, const char* which) {
  const std::string what = "--dataset '" + name + "': its " + which + " set ";
  if (!d.images.defined() || !d.labels.defined() || d.size() == 0) return Status::usage(what + "is empty");
  if (d.images.dim() != 4 || d.images.scalar_type() != at::kFloat || d.images.size(0) != d.size())
    return Status::usage(what + "needs float32 images [N, C, H, W], one per label");
  if (d.labels.dim() != 1 || d.labels.scalar_type() != at::kLong) return Status::usage(what + "needs int64 labels [N]");
  if (d.classes < 2 || d.labels.min().item<int64_t>() < 0 || d.labels.max().item<int64_t>() >= d.classes)
    return Status::usage(what + "needs labels in [0, classes) and at least 2 classes");
  return Status::ok();
}

}  // namespace

Status register_dataset(const std::string& name, DatasetLoader loader) {
  return datasets().add(name, std::move(loader));
}

std::vector<std::string> added_dataset_names() { return datasets().added_names(); }

TrainTestData load_data(const RunConfig& c, bool with_test) {
  const auto loader = datasets().find(c.dataset, "--dataset").value_or_throw<UsageError>();
  auto data = loader(c, with_test).value_or_throw<UsageError>();
  check_set(c.dataset, data.train, "training").throw_as<UsageError>();
  if (with_test) {
    check_set(c.dataset, data.test, "test").throw_as<UsageError>();
    if (data.test.images.sizes().slice(1) != data.train.images.sizes().slice(1) || data.test.classes != data.train.classes)
      throw UsageError("--dataset '" + c.dataset + "': its test set has another shape or class count than its training set");
  }
  return data;
}

}  // namespace xfed::app
