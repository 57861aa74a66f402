// The dataset registry: the built-ins are registrations (a taken name), an unknown name
// lists every registered one, a user's loader is used by name, and what a loader returns
// is checked before a run sees it (shape, label range, an empty test set).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "app/datasets.h"
#include "core/check.h"

namespace xfed::app {
namespace {

Dataset images(int64_t n, std::vector<int64_t> shape, int64_t classes) {
  shape.insert(shape.begin(), n);
  return {at::zeros(shape, at::kFloat), at::arange(n, at::kLong) % classes, classes};
}

RunConfig config_for(const std::string& dataset) {
  RunConfig c;
  c.dataset = dataset;
  return c;
}

std::string usage_error_of(const RunConfig& c, bool with_test = true) {
  try {
    load_data(c, with_test);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DatasetRegistry, AUserLoaderIsFoundByNameAndBuiltInNamesAreTaken) {
  ASSERT_TRUE(register_dataset("tiny-set", [](const RunConfig&, bool) -> Result<TrainTestData> {
    return TrainTestData{"tiny-set", images(6, {1, 4, 4}, 3), images(3, {1, 4, 4}, 3)};
  }));
  const auto data = load_data(config_for("tiny-set"));
  EXPECT_EQ(data.train.size(), 6);
  EXPECT_EQ(data.test.classes, 3);
  const auto taken = register_dataset("fashion-mnist", [](const RunConfig&, bool) -> Result<TrainTestData> {
    return Status::usage("never");
  });
  EXPECT_EQ(taken.code(), StatusCode::kUsage);
  EXPECT_NE(taken.message().find("the name is taken"), std::string::npos) << taken.message();
  EXPECT_EQ(usage_error_of(config_for("imagenet")),
            "--dataset 'imagenet': no dataset of that name (registered: cifar10, fashion-mnist, mnist, synthetic, "
            "tiny-set)");
  EXPECT_EQ(added_dataset_names(), std::vector<std::string>{"tiny-set"});
}

TEST(DatasetRegistry, WhatALoaderReturnsIsCheckedBeforeUse) {
  ASSERT_TRUE(register_dataset("flat", [](const RunConfig&, bool) -> Result<TrainTestData> {
    return TrainTestData{"flat", {at::zeros({4, 16}), at::zeros({4}, at::kLong), 2}, images(2, {1, 4, 4}, 2)};
  }));
  EXPECT_EQ(usage_error_of(config_for("flat")),
            "--dataset 'flat': its training set needs float32 images [N, C, H, W], one per label");
  ASSERT_TRUE(register_dataset("label-out-of-range", [](const RunConfig&, bool) -> Result<TrainTestData> {
    auto train = images(4, {1, 4, 4}, 2);
    train.labels[0] = 7;
    return TrainTestData{"x", train, images(2, {1, 4, 4}, 2)};
  }));
  EXPECT_NE(usage_error_of(config_for("label-out-of-range")).find("labels in [0, classes)"), std::string::npos);
  ASSERT_TRUE(register_dataset("train-only", [](const RunConfig&, bool) -> Result<TrainTestData> {
    return TrainTestData{"x", images(4, {1, 4, 4}, 2), Dataset{}};
  }));
  EXPECT_EQ(usage_error_of(config_for("train-only")), "--dataset 'train-only': its test set is empty");
  EXPECT_EQ(usage_error_of(config_for("train-only"), /*with_test=*/false), "(no error)")
      << "a device training on its own data needs no test set";
  ASSERT_TRUE(register_dataset("other-test-shape", [](const RunConfig&, bool) -> Result<TrainTestData> {
    return TrainTestData{"x", images(4, {1, 4, 4}, 2), images(2, {1, 5, 5}, 2)};
  }));
  EXPECT_NE(usage_error_of(config_for("other-test-shape")).find("another shape"), std::string::npos);
}

}  // namespace
}  // namespace xfed::app
