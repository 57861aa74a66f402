#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <torch/script.h>

#include <sstream>

#include "core/model_state.h"
#include "core/models/torchscript.h"
#include "worker/local_trainer.h"
#include "worker/mlp_trainer.h"
#include "tests/sample_state.h"

using xfed::testing::small_data;

namespace xfed::worker {
namespace {

struct Pair {
  Net fast, reference;
};

Pair twin_mlps(std::vector<int64_t> input_kept = {}) {
  auto spec = make_spec("mlp", 1, 6, 6, 10, {24, 12}).value();
  spec.input_kept = std::move(input_kept);
  torch::manual_seed(3);
  Net a = make_model(spec);
  Net b = make_model(spec);
  write_state(*b, read_state(*a));
  return {a, b};
}

class FastMlp : public ::testing::TestWithParam<TrainOptions> {};

}  // namespace
}  // namespace xfed::worker

namespace xfed::worker {
void PrintTo(const TrainOptions& t, std::ostream* os) {
  *os << "momentum " << t.momentum << " wd " << t.weight_decay << " mu " << t.prox_mu
      << " epochs " << t.local_epochs;
}
}  // namespace xfed::worker

namespace xfed::worker {
namespace {

// The hand-written MLP step computes what autograd + torch::optim::SGD compute.
TEST_P(FastMlp, MatchesAutogradStepByStep) {
  const auto data = small_data(130);  // 130 = 4 batches of 32 + a batch of 2
  for (const auto& kept : {std::vector<int64_t>{}, std::vector<int64_t>{0, 3, 7, 8, 20, 35}}) {
    auto nets = twin_mlps(kept);
    ASSERT_TRUE(is_plain_mlp(*nets.fast));
    const auto task = GetParam();
    const auto fast = train_mlp(*nets.fast, data, task);
    const auto ref = train_autograd(*nets.reference, data, task);
    EXPECT_NEAR(fast.mean_loss, ref.mean_loss, 1e-5);
    const auto a = read_state(*nets.fast), b = read_state(*nets.reference);
    EXPECT_LT((a - b).abs().max().item<float>(), 2e-5) << "kept " << kept.size();
    EXPECT_GT((a - read_state(*twin_mlps(kept).fast)).abs().max().item<float>(), 1e-3)
        << "training moved the weights";
  }
}

TrainOptions task(double momentum, double wd, double mu, int64_t epochs) {
  TrainOptions t;
  t.lr = 0.05;
  t.momentum = momentum;
  t.weight_decay = wd;
  t.prox_mu = mu;
  t.local_epochs = epochs;
  t.batch = 32;
  t.seed = 11;
  return t;
}

INSTANTIATE_TEST_SUITE_P(Tasks, FastMlp,
                         ::testing::Values(task(0.9, 0, 0, 1), task(0, 0, 0, 2),
                                           task(0.9, 1e-3, 0, 1), task(0.5, 0, 0.1, 2)));

// A TorchScript MLP (fc1, fc2, fc3 called in order on the flattened input) takes the fast
// path, and it computes what autograd on the scripted forward computes.
TEST(FastMlp, AScriptedMlpMatchesAutogradOnItsScriptStepByStep) {
  torch::manual_seed(5);
  torch::jit::Module m("ScriptedMlp");
  const std::vector<std::pair<int64_t, int64_t>> shapes{{36, 24}, {24, 12}, {12, 10}};
  for (size_t i = 0; i < shapes.size(); ++i) {
    torch::jit::Module fc("ScriptedMlpFc" + std::to_string(i));
    fc.register_parameter("weight", at::randn({shapes[i].second, shapes[i].first}).mul_(0.2).requires_grad_(), false);
    fc.register_parameter("bias", at::randn({shapes[i].second}).mul_(0.1).requires_grad_(), false);
    fc.define("def forward(self, x):\n  return torch.linear(x, self.weight, self.bias)\n");
    m.register_module("fc" + std::to_string(i + 1), fc);
  }
  m.define("def forward(self, x):\n  return self.fc3.forward(torch.relu(self.fc2.forward(torch.relu(self.fc1.forward(x.flatten(1))))))\n");
  std::ostringstream archive;
  m.save(archive);
  ASSERT_TRUE(register_torchscript_family().is_ok());
  ASSERT_TRUE(set_torchscript_archive(std::make_shared<const std::string>(archive.str()), "test").is_ok());
  const auto spec = make_spec(kTorchScriptFamily, 1, 6, 6, 10).value();
  const auto data = small_data(130);
  for (const auto& t : {task(0.9, 1e-3, 0, 1), task(0.5, 0, 0.1, 2)}) {
    Net fast = make_model(spec), reference = make_model(spec);  // both the archive's weights
    ASSERT_TRUE(is_plain_mlp(*fast));
    const auto before = read_state(*fast);
    const auto a = train_mlp(*fast, data, t);
    const auto b = train_autograd(*reference, data, t);
    EXPECT_NEAR(a.mean_loss, b.mean_loss, 1e-5);
    EXPECT_LT((read_state(*fast) - read_state(*reference)).abs().max().item<float>(), 2e-5);
    EXPECT_GT((read_state(*fast) - before).abs().max().item<float>(), 1e-3) << "training moved the weights";
  }
}

TEST(FastMlp, OnlyPlainMlpsTakeTheFastPath) {
  auto lenet = make_model(make_spec("lenet5", 1, 28, 28, 10).value());
  EXPECT_FALSE(is_plain_mlp(*lenet));
}

}  // namespace
}  // namespace xfed::worker
