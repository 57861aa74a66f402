// Structured pruning surgery: the slim model computes what the full model computes once the
// pruned units are cut off from their consumers; flat-state slicing agrees with it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/utils.h>

#include <cstring>

#include <torch/script.h>

#include <sstream>
#include <tuple>

#include "core/model_state.h"
#include "core/models/torchscript.h"
#include "pruning/planner.h"
#include "pruning/surgery.h"

namespace xfed::pruning {
namespace {

struct Case {
  std::string arch;
  int64_t c, h, w;
  std::vector<int64_t> widths;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.arch; }

// Keeps a random ~half of every layer's units (at least one).
StructurePlan random_plan(NetImpl& net, uint64_t seed) {
  at::manual_seed(seed);
  StructurePlan p{1, net.spec(), {}, {}};
  for (auto u : layer_units(net)) p.kept.push_back(top_units(at::rand({u}, at::kDouble), std::max<int64_t>(1, u / 2)));
  return p;
}

// Zeroes every consumer entry (a dim-1 binding) of the pruned units, so they cannot
// influence anything downstream.
void disconnect_pruned(NetImpl& net, const StructurePlan& plan) {
  torch::NoGradGuard no_grad;
  auto params = net.named_parameters(true);
  for (const auto& b : net.axis_bindings()) {
    if (b.dim != 1) continue;
    auto& w = params[b.tensor];
    std::vector<bool> keep(w.size(1) / b.block, false);
    for (auto u : plan.kept[b.layer]) keep[u] = true;
    for (size_t u = 0; u < keep.size(); ++u)
      if (!keep[u]) w.narrow(1, static_cast<int64_t>(u) * b.block, b.block).zero_();
  }
}

// A TorchScript chain written in TorchScript's language: conv(1->6) -> BatchNorm -> ReLU ->
// max-pool -> flatten -> Linear(96->12) -> ReLU -> Linear(12->10), on 1x10x10 inputs; this
// process's archive (once).
torch::jit::Module scripted_part(const std::string& type, const std::string& forward,
                                 std::vector<std::pair<std::string, at::Tensor>> params,
                                 std::vector<std::pair<std::string, at::Tensor>> buffers = {}) {
  torch::jit::Module m(type);
  m.register_attribute("training", c10::BoolType::get(), true);
  for (auto& [name, t] : params) m.register_parameter(name, t.requires_grad_(), false);
  for (auto& [name, t] : buffers) m.register_buffer(name, t);
  if (!forward.empty()) m.define(forward);
  return m;
}

void use_scripted_cnn_archive() {
  torch::manual_seed(4);
  auto net = scripted_part("SurgeryCnn", "", {});
  net.register_module("conv", scripted_part("SurgeryConv",
                                            "def forward(self, x):\n  return torch.conv2d(x, self.weight, self.bias)\n",
                                            {{"weight", at::randn({6, 1, 3, 3})}, {"bias", at::randn({6})}}));
  net.register_module("bn", scripted_part("SurgeryBn",
                                          "def forward(self, x):\n  return torch.batch_norm(x, self.weight, self.bias, "
                                          "self.running_mean, self.running_var, self.training, 0.1, 1e-5, False)\n",
                                          {{"weight", at::rand({6}) + 0.5}, {"bias", at::randn({6})}},
                                          {{"running_mean", at::zeros({6})}, {"running_var", at::ones({6})}}));
  for (const auto& [name, in, out] : {std::tuple<std::string, int64_t, int64_t>{"fc1", 96, 12}, {"fc2", 12, 10}})
    net.register_module(name, scripted_part("Surgery" + name,
                                            "def forward(self, x):\n  return torch.linear(x, self.weight, self.bias)\n",
                                            {{"weight", at::randn({out, in}) * 0.3}, {"bias", at::randn({out})}}));
  net.define(
      "def forward(self, x):\n"
      "  h = torch.max_pool2d(torch.relu(self.bn.forward(self.conv.forward(x))), [2, 2])\n"
      "  return self.fc2.forward(torch.relu(self.fc1.forward(torch.flatten(h, 1))))\n");
  std::ostringstream archive;
  net.save(archive);
  ASSERT_TRUE(register_torchscript_family().is_ok());
  ASSERT_TRUE(set_torchscript_archive(std::make_shared<const std::string>(archive.str()), "surgery test").is_ok());
}

class Surgery : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (GetParam().arch == kTorchScriptFamily) use_scripted_cnn_archive();
  }
};

TEST_P(Surgery, SlimModelComputesWhatTheDisconnectedFullModelComputes) {
  const auto& k = GetParam();
  torch::manual_seed(1);
  auto full = make_model(make_spec(k.arch, k.c, k.h, k.w, 10, k.widths).value());
  // Non-trivial BN statistics, so buffers matter.
  for (auto& b : full->buffers())
    if (b.is_floating_point()) b.uniform_(0.5, 1.5);
  full->eval();
  const auto plan = random_plan(*full, 2);
  auto slim = apply_plan(*full, plan);
  ASSERT_TRUE(slim) << slim.message();
  slim.value()->eval();
  EXPECT_LT(slim.value()->num_params(), full->num_params());
  EXPECT_LT(slim.value()->flops(), full->flops());
  EXPECT_EQ(layer_units(*slim.value()), [&] {
    std::vector<int64_t> u;
    for (const auto& l : plan.kept) u.push_back(static_cast<int64_t>(l.size()));
    return u;
  }());
  // Flat slicing gives the slim model's state.
  auto gather = flat_gather_index(*full, plan);
  ASSERT_TRUE(gather);
  EXPECT_TRUE(slice_flat(read_state(*full), gather.value()).equal(read_state(*slim.value())));
  disconnect_pruned(*full, plan);
  const auto x = at::randn({3, k.c, k.h, k.w});
  torch::NoGradGuard no_grad;
  const auto a = full->forward(x), b = slim.value()->forward(x);
  EXPECT_TRUE(a.allclose(b, 1e-4, 1e-4)) << (a - b).abs().max().item<float>();
}

INSTANTIATE_TEST_SUITE_P(AllModels, Surgery,
                         ::testing::Values(Case{"mlp", 1, 6, 6, {20, 10}},
                                           Case{"lenet5", 1, 28, 28, {8, 12, 30}},
                                           Case{"vgg", 3, 32, 32, {8, 8, 12, 12, 16, 16, 24}},
                                           Case{"resnet20", 3, 16, 16, {8, 10, 12, 4, 5, 6, 4, 5, 6, 4, 5, 6}},
                                           Case{kTorchScriptFamily, 1, 10, 10, {}}),
                         [](const auto& info) { return info.param.arch; });

// A scripted chain's taps are its prunable layers' outputs after their BatchNorm and
// activation (the class statistics' samples), and the logits are the forward's.
TEST(Surgery, AScriptedChainIsTappedAfterEachLayersActivation) {
  use_scripted_cnn_archive();
  auto net = make_model(make_spec(kTorchScriptFamily, 1, 10, 10, 10).value());
  net->eval();
  ASSERT_EQ(net->prunable_layers().size(), 2u);
  EXPECT_EQ(net->prunable_layers()[0].name, "conv");
  EXPECT_EQ(net->flops(), 2 * 9 * 6 * 64 + 2 * 96 * 12 + 2 * 12 * 10);
  torch::NoGradGuard no_grad;
  const auto x = at::randn({3, 1, 10, 10});
  std::vector<at::Tensor> taps;
  const auto logits = net->forward_features(x, &taps);
  ASSERT_EQ(taps.size(), 2u);
  EXPECT_EQ(taps[0].sizes(), (at::IntArrayRef{3, 6, 8, 8}));
  EXPECT_EQ(taps[1].sizes(), (at::IntArrayRef{3, 12}));
  EXPECT_GE(taps[0].min().item<float>(), 0.f) << "after the ReLU";
  EXPECT_GT(taps[0].max().item<float>(), 0.f);
  EXPECT_TRUE(logits.equal(net->forward(x)));
}

TEST(Surgery, InputPruningComposesAcrossPlans) {
  auto net = make_model(make_spec("mlp", 1, 4, 4, 10, {8, 6}).value());
  StructurePlan first{1, net->spec(), {{1, 3, 5, 7, 9, 11, 13, 15}, {0, 1, 2, 3}, {0, 1, 2}}, {}};
  auto slim = apply_plan(*net, first).value();
  EXPECT_EQ(slim->spec().input_kept, (std::vector<int64_t>{1, 3, 5, 7, 9, 11, 13, 15}));
  StructurePlan second{2, slim->spec(), {{0, 2, 7}, {0, 1}, {2}}, {}};
  auto slimmer = apply_plan(*slim, second).value();
  EXPECT_EQ(slimmer->spec().input_kept, (std::vector<int64_t>{1, 5, 15}));
  EXPECT_EQ(slimmer->num_params(), 3 * 2 + 2 + 2 * 1 + 1 + 1 * 10 + 10);
}

TEST(StructurePlan, RoundTripsAndValidates) {
  auto net = make_model(make_spec("mlp", 1, 4, 4, 10, {8, 6}).value());
  StructurePlan p{3, net->spec(), {{0, 5, 15}, {2, 3}, {0}}, {}};
  Bytes b;
  ByteWriter w(&b);
  p.write(w);
  ByteReader r(b);
  auto back = StructurePlan::read(r);
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back.value().kept, p.kept);
  EXPECT_EQ(back.value().from, p.from);
  EXPECT_TRUE(p.validate(layer_units(*net)));
  for (const auto& bad : std::vector<std::vector<std::vector<int64_t>>>{
           {{0, 5, 16}, {2}, {0}}, {{0}, {3, 2}, {0}}, {{0}, {}, {0}}, {{0}, {1}}})
    EXPECT_FALSE((StructurePlan{3, net->spec(), bad, {}}.validate(layer_units(*net))));
  Bytes cut(b.begin(), b.end() - 1);
  ByteReader r2(cut);
  EXPECT_FALSE(StructurePlan::read(r2));
  auto other = make_model(make_spec("mlp", 1, 4, 4, 10, {9, 6}).value());
  EXPECT_FALSE(apply_plan(*other, p)) << "plan for another structure";
}

TEST(Planner, DropsTheFractionKeepsMinUnitsAndLandsOnTheTarget) {
  auto net = make_model(make_spec("mlp", 1, 28, 28, 10).value());
  std::vector<at::Tensor> scores;
  for (auto u : layer_units(*net)) scores.push_back(at::arange(u, at::kDouble));  // high index = keep
  PruneOptions o;
  o.fraction = 0.25;
  o.input_fraction = -1;  // the same fraction for the input features
  o.target = 0.01;
  const int64_t original = net->num_params();
  auto p = make_plan(*net, scores, o, original, 1).value();
  EXPECT_EQ(p.kept[0].size(), 588u);
  o.input_fraction = 0.1;
  EXPECT_EQ(make_plan(*net, scores, o, original, 1).value().kept[0].size(), 706u) << "ceil(784 * 0.9)";
  o.input_fraction = -1;
  EXPECT_EQ(p.kept[1].size(), 225u);
  EXPECT_EQ(p.kept[2].front(), 25) << "lowest scores dropped";
  o.target = 0.6;  // a full 25 % step leaves 56 %: the step shrinks to land just below 60 %
  auto q = make_plan(*net, scores, o, original, 1).value();
  const auto size = make_model(net->spec_after(q.kept))->num_params();
  EXPECT_LE(size, 0.6 * original);
  EXPECT_GT(size, 0.59 * original);
  o.min_units = 150;
  o.fraction = 0.9;
  o.target = 0.001;
  auto r = make_plan(*net, scores, o, original, 1).value();
  EXPECT_EQ(r.kept[2].size(), 100u) << "never below min_units (or the layer's size)";
  EXPECT_EQ(r.kept[1].size(), 150u);
}

TEST(Planner, ParsesSpecsAndRejectsBadOnes) {
  auto o = PruneOptions::parse("l1:every=3,warmup=2,fraction=0.1,target_flops=0.2,min_units=2").value();
  EXPECT_EQ(o.criterion, Criterion::kL1);
  EXPECT_EQ(o.every, 3);
  EXPECT_TRUE(o.target_flops);
  EXPECT_TRUE(o.is_step_round(5));
  EXPECT_FALSE(o.is_step_round(4));
  EXPECT_TRUE(o.bf16_stats) << "default: bfloat16 statistics";
  EXPECT_FALSE(PruneOptions::parse("di:bf16=0").value().bf16_stats);
  for (const char* bad : {"magic", "di:every=0", "di:fraction=1.5", "di:speed=3", "di:every", "di:target=x",
                          "di:bf16=2"}) {
    auto p = PruneOptions::parse(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_NE(p.message().find("--prune"), std::string::npos) << p.message();
  }
  const auto unknown = PruneOptions::parse("di:speed=3").message();
  EXPECT_NE(unknown.find("unknown key 'speed'"), std::string::npos) << unknown;
  for (const char* item : {"every=1", "warmup=1", "fraction=0.5", "input_fraction=0.5", "lambda=1", "target=1",
                           "target_flops=1", "min_units=1", "floor=1", "rho=1", "rho_abs=1", "input_rho=1",
                           "stats_samples=1", "noise=1", "spatial=1", "input=1", "restart_lr=1", "bf16=1"}) {
    const std::string key(item, std::strchr(item, '='));
    EXPECT_NE(unknown.find(key), std::string::npos) << "the key list names " << key;
    EXPECT_TRUE(PruneOptions::parse(std::string("di:") + item)) << item << " is in range";
  }
  const auto range = PruneOptions::parse("di:fraction=1.5").message();
  EXPECT_NE(range.find("'fraction=1.5': expected a number in [1e-06, 0.95]"), std::string::npos) << range;
  const auto whole = PruneOptions::parse("di:every=2.5").message();
  EXPECT_NE(whole.find("expected a whole number >= 1"), std::string::npos) << whole;
  const auto value = PruneOptions::parse("di:target=x").message();
  EXPECT_NE(value.find("'target=x': expected a number in [0.0001, 1]"), std::string::npos) << value;
}

TEST(Criteria, L1BnAndRandom) {
  auto net = make_model(make_spec("mlp", 1, 2, 2, 10, {3, 2}).value());
  {
    torch::NoGradGuard no_grad;
    auto w = net->named_parameters()["layers.0.weight"];  // [3, 4]
    w.copy_(at::tensor({1.f, 1.f, 1.f, 1.f, 0.f, 0.f, 0.f, -1.f, 2.f, 0.f, 0.f, 0.f}).view({3, 4}));
  }
  const auto s = score_layers(Criterion::kL1, *net, {}, {}, 1).value();
  EXPECT_TRUE(s.scores[1].equal(at::tensor({4.0, 1.0, 2.0}, at::kDouble)));
  EXPECT_TRUE(s.scores[0].equal(at::tensor({3.0, 1.0, 1.0, 2.0}, at::kDouble))) << "input: outgoing";
  EXPECT_FALSE(score_layers(Criterion::kBn, *net, {}, {}, 1)) << "no BatchNorm in an mlp";
  const auto no_bn = check_criterion(Criterion::kBn, *net);
  ASSERT_FALSE(no_bn);
  EXPECT_NE(no_bn.message().find("model mlp has no BatchNorm on layer 'input'"), std::string::npos)
      << no_bn.message();
  EXPECT_TRUE(check_criterion(Criterion::kL1, *net));
  const auto r1 = score_layers(Criterion::kRandom, *net, {}, {}, 7).value();
  const auto r2 = score_layers(Criterion::kRandom, *net, {}, {}, 7).value();
  EXPECT_TRUE(r1.scores[1].equal(r2.scores[1]));
  EXPECT_FALSE(score_layers(Criterion::kDi, *net, {}, {}, 1)) << "needs statistics";
  auto vgg = make_model(make_spec("vgg", 3, 32, 32, 10, {4, 4, 4, 4, 4, 4, 8}).value());
  EXPECT_TRUE(score_layers(Criterion::kBn, *vgg, {}, {}, 1));
}

}  // namespace
}  // namespace xfed::pruning
