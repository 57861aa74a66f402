#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <algorithm>

#include "core/evaluate.h"
#include "core/model.h"
#include "core/model_state.h"

namespace xfed {
namespace {

Net build(const std::string& arch, int64_t c, int64_t h, int64_t w, std::vector<int64_t> widths = {}) {
  return make_model(make_spec(arch, c, h, w, 10, std::move(widths)).value());
}

TEST(Models, ForwardShapesAndFeatures) {
  struct Case {
    std::string arch;
    int64_t c, h, w;
    size_t layers;
  };
  for (const auto& k : {Case{"mlp", 1, 28, 28, 3}, Case{"lenet5", 1, 28, 28, 3},
                        Case{"lenet5", 3, 32, 32, 3}, Case{"vgg", 3, 32, 32, 7},
                        Case{"resnet20", 3, 32, 32, 12}}) {
    auto net = build(k.arch, k.c, k.h, k.w);
    std::vector<at::Tensor> taps;
    const auto out = net->forward_features(at::randn({4, k.c, k.h, k.w}).abs(), &taps);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 10})) << k.arch;
    const auto layers = net->prunable_layers();
    const auto tap_layer = net->tap_layers();
    ASSERT_EQ(layers.size(), k.layers) << k.arch;
    ASSERT_EQ(taps.size(), tap_layer.size()) << k.arch;
    std::vector<int> taps_per_layer(layers.size(), 0);
    for (size_t t = 0; t < taps.size(); ++t) {
      EXPECT_EQ(taps[t].size(1), layers[tap_layer[t]].units) << k.arch << " tap " << t;
      EXPECT_GE(taps[t].min().item<float>(), 0.0f) << "taps are post-ReLU";
      ++taps_per_layer[tap_layer[t]];
    }
    for (size_t l = 0; l < layers.size(); ++l) EXPECT_GE(taps_per_layer[l], 1) << layers[l].name;
  }
  // ResNet residual groups are seen at several places: stem + 3 block outputs, then 3, 3.
  auto resnet = build("resnet20", 3, 32, 32);
  const auto tl = resnet->tap_layers();
  EXPECT_EQ(std::count(tl.begin(), tl.end(), 0), 4);
  EXPECT_EQ(std::count(tl.begin(), tl.end(), 2), 3);
}

TEST(Models, MlpParamsAndFlopsInClosedForm) {
  auto net = build("mlp", 1, 28, 28);
  EXPECT_EQ(net->num_params(), 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10);
  EXPECT_EQ(net->flops(), 2 * (784 * 300 + 300 * 100 + 100 * 10));
  auto slim = build("mlp", 1, 28, 28, {30, 10});
  EXPECT_EQ(slim->flops(), 2 * (784 * 30 + 30 * 10 + 10 * 10));
}

TEST(Models, LeNet5FlopsInClosedForm) {
  auto net = build("lenet5", 1, 28, 28);
  const int64_t conv1 = 2 * 1 * 20 * 25 * 24 * 24, conv2 = 2 * 20 * 50 * 25 * 8 * 8;
  EXPECT_EQ(net->flops(), conv1 + conv2 + 2 * 800 * 500 + 2 * 500 * 10);
  EXPECT_EQ(net->num_params(), (20 * 25 + 20) + (50 * 20 * 25 + 50) + (800 * 500 + 500) + 5010);
}

TEST(Models, ResNet20HasTheUsualSize) {
  auto net = build("resnet20", 3, 32, 32);
  // ~0.27M parameters with option-B shortcuts (He et al. report 0.27M).
  EXPECT_GT(net->num_params(), 260000);
  EXPECT_LT(net->num_params(), 280000);
  EXPECT_GT(net->flops(), 2 * 40'000'000LL);  // ~41M multiply-adds
  EXPECT_LT(net->flops(), 2 * 42'000'000LL);
}

// Evaluation's batch keeps a batch's largest activation within kEvalBatchBytes: for the
// built-ins their first layer's output (or the mlp's input), in closed form.
TEST(Models, EvaluationBatchesKeepTheLargestActivationWithinTheirBudget) {
  auto images = [](int64_t c, int64_t h, int64_t w) {
    return Dataset{at::zeros({4, c, h, w}), at::zeros({4}, at::kLong), 10};
  };
  const int64_t budget = kEvalBatchBytes / 4;  // float32 values
  EXPECT_EQ(eval_batch(*build("lenet5", 1, 28, 28), images(1, 28, 28)), budget / (20 * 24 * 24));  // conv1: 45
  EXPECT_EQ(eval_batch(*build("resnet20", 3, 32, 32), images(3, 32, 32)), budget / (16 * 32 * 32));  // stem: 32
  EXPECT_EQ(eval_batch(*build("vgg", 3, 32, 32), images(3, 32, 32)), budget / (32 * 32 * 32));  // conv1: 16
  EXPECT_EQ(eval_batch(*build("mlp", 1, 28, 28), images(1, 28, 28)), budget / 784);  // the input: 668
  EXPECT_EQ(eval_batch(*build("mlp", 1, 6, 6, {24, 12}), images(1, 6, 6)), 1000) << "at most 1000";
  auto wide = build("mlp", 3, 64, 64, {8, 8});
  EXPECT_EQ(eval_batch(*wide, images(3, 64, 64)), 42);
  wide->train();
  eval_batch(*wide, images(3, 64, 64));
  EXPECT_TRUE(wide->is_training()) << "the probe leaves the mode as it was";
}

TEST(Models, BadSpecsAreUsageErrors) {
  EXPECT_FALSE(make_spec("transformer", 1, 28, 28, 10));
  EXPECT_FALSE(make_spec("mlp", 1, 28, 28, 10, {300}));
  EXPECT_FALSE(make_spec("mlp", 1, 28, 28, 10, {300, 0}));
  EXPECT_FALSE(make_spec("lenet5", 1, 8, 8, 10));
  EXPECT_NE(make_spec("mlp", 1, 28, 28, 10, {1}).message().find("--widths"), std::string::npos);
  // Sizes a model file could claim: refused before LibTorch allocates them.
  EXPECT_FALSE(make_spec("mlp", 1, 28, 28, 10, {65536, 65536}));       // > 2^31 weights
  EXPECT_FALSE(make_spec("mlp", 1, 28, 28, 10, {-3, 4}));
  EXPECT_FALSE(make_spec("mlp", -1, 28, 28, 10, {3, 4}));
  EXPECT_FALSE(make_spec("mlp", 1, 100000, 100000, 10, {3, 4}));
  EXPECT_FALSE(make_spec("mlp", 1, 28, 28, int64_t{1} << 40, {3, 4}));
  EXPECT_FALSE(make_spec("vgg", 3, 4096, 4096, 10, {64, 64, 64, 64, 64, 64, 4096}));
  EXPECT_TRUE(make_spec("vgg", 3, 32, 32, 10, {32, 32, 64, 64, 128, 128, 256}));
}

TEST(Models, SpecJsonRoundTrip) {
  auto spec = make_spec("vgg", 3, 32, 32, 10, {8, 8, 16, 16, 32, 32, 64}).value();
  spec.input_kept = {1, 5};
  auto back = ModelSpec::from_json(spec.to_json());
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back.value(), spec);
  EXPECT_FALSE(ModelSpec::from_json("{\"arch\": \"mlp\"}"));
  EXPECT_FALSE(ModelSpec::from_json("not json"));
  auto bad_kept = spec;
  bad_kept.input_kept = {5, 1};
  EXPECT_FALSE(ModelSpec::from_json(bad_kept.to_json())) << "input_kept must be increasing";
  bad_kept.input_kept = {3 * 32 * 32};
  EXPECT_FALSE(ModelSpec::from_json(bad_kept.to_json())) << "input_kept beyond the inputs";
  // Numbers that are not integers in range are errors, never conversions (UB for 1e300).
  const std::string head = R"({"arch":"mlp","height":4,"width":4,"classes":10,"widths":[8,4],)";
  EXPECT_FALSE(ModelSpec::from_json(head + R"("in_channels":1e300})"));
  EXPECT_FALSE(ModelSpec::from_json(head + R"("in_channels":1.5})"));
  EXPECT_FALSE(ModelSpec::from_json(head + R"("in_channels":18446744073709551615})"));
  EXPECT_FALSE(ModelSpec::from_json(head + R"("in_channels":"1"})"));
  EXPECT_TRUE(ModelSpec::from_json(head + R"("in_channels":1})"));
}

TEST(ModelState, WriteThenReadIsIdentityAndLayoutCoversEverything) {
  auto net = build("vgg", 3, 32, 32, {4, 4, 8, 8, 8, 8, 16});
  const auto layout = layout_of(*net);
  int64_t params = 0, buffers = 0;
  for (const auto& s : layout.slots) (s.is_buffer ? buffers : params) += s.numel;
  EXPECT_EQ(params, net->num_params());
  EXPECT_EQ(layout.param_count(), params);
  EXPECT_GT(buffers, 0);  // BN running stats
  const auto state = at::randn({layout.total});
  write_state(*net, state);
  EXPECT_TRUE(read_state(*net).equal(state));
  EXPECT_EQ(state_checksum(state), state_checksum(state.clone()));
  EXPECT_NE(state_checksum(state), state_checksum(state + 1e-3));
}

TEST(ModelState, SameSeedSameInitialModel) {
  auto spec = make_spec("mlp", 1, 8, 8, 10).value();
  torch::manual_seed(5);
  auto a = read_state(*make_model(spec));
  torch::manual_seed(5);
  auto b = read_state(*make_model(spec));
  EXPECT_TRUE(a.equal(b));
}

// A family registered by a program that uses xfed as a library.
struct LinearProbeImpl : NetImpl {
  explicit LinearProbeImpl(const ModelSpec& spec) : NetImpl(spec) {
    fc = register_module("fc", torch::nn::Linear(spec.in_channels * spec.height * spec.width, spec.classes));
  }
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>*) override { return fc(x.flatten(1)); }
  torch::nn::Linear fc{nullptr};
};

TEST(ModelRegistry, ARegisteredFamilyTravelsBySpecLikeABuiltInOne) {
  EXPECT_FALSE(make_spec("probe", 1, 8, 8, 10)) << "not registered yet";
  ASSERT_TRUE(register_model("probe", [](const ModelSpec& s) { return std::make_shared<LinearProbeImpl>(s); }));
  auto spec = make_spec("probe", 1, 8, 8, 10);
  ASSERT_TRUE(spec) << spec.message();
  auto back = ModelSpec::from_json(spec.value().to_json());  // as a worker reads it
  ASSERT_TRUE(back) << back.message();
  const auto net = make_model(back.value());
  EXPECT_EQ(net->num_params(), 64 * 10 + 10);
  EXPECT_TRUE(net->prunable_layers().empty()) << "not prunable unless it says so";
  EXPECT_EQ(net->forward(at::zeros({3, 1, 8, 8})).sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_FALSE(make_spec("probe", 1, 8, 8, 1)) << "input checks still apply";
}

// A family with rules of its own: standard widths, their meaning, a smallest input.
TEST(ModelRegistry, AFamilysRulesAreCheckedLikeTheBuiltInsOnes) {
  ASSERT_TRUE(register_model("probe2", [](const ModelSpec& s) { return std::make_shared<LinearProbeImpl>(s); },
                             FamilyRules{{4, 4}, "two hidden sizes", 8, false}));
  const auto standard = make_spec("probe2", 1, 8, 8, 10);
  ASSERT_TRUE(standard) << standard.message();
  EXPECT_EQ(standard.value().widths, (std::vector<int64_t>{4, 4}));
  const auto three = make_spec("probe2", 1, 8, 8, 10, {4, 4, 4});
  ASSERT_FALSE(three);
  EXPECT_EQ(three.message(), "--widths for probe2: expected 2 values (two hidden sizes)");
  const auto small = make_spec("probe2", 1, 4, 8, 10);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.message(), "model probe2: needs inputs of at least 8x8");
  const auto unknown = make_spec("probe3", 1, 8, 8, 10);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.message().find("--model 'probe3': no model of that name (registered: lenet5, mlp"),
            std::string::npos) << unknown.message();
  const auto names = registered_family_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "probe2"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "mlp"), names.end()) << "built in, not the program's";
}

TEST(ModelRegistry, BuiltInNamesAndEmptyFactoriesAreRefused) {
  const auto factory = [](const ModelSpec& s) { return std::make_shared<LinearProbeImpl>(s); };
  const auto taken = register_model("mlp", factory);
  EXPECT_EQ(taken.code(), StatusCode::kUsage);
  EXPECT_NE(taken.message().find("register model 'mlp': the name is taken (registered: lenet5, mlp"), std::string::npos)
      << "the built-ins are registrations: " << taken.message();
  EXPECT_FALSE(register_model("", factory));
  EXPECT_FALSE(register_model("Has Space", factory));
  EXPECT_FALSE(register_model("nothing", nullptr));
  EXPECT_FALSE(make_spec("nothing", 1, 8, 8, 10));
}

}  // namespace
}  // namespace xfed
