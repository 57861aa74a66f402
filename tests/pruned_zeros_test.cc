// Magnitude pruning (#20, --share-weights sparsity=S): which weights prune_smallest() cuts
// (closed form, one threshold over every matrix, ties by position, biases never), and local
// training that keeps the zeros zero — fast mlp path and autograd alike, with momentum,
// weight decay and FedProx, alone and with shared weights — while the other weights train
// as on an unpruned copy whose zeros are the same.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>

#include "core/model_state.h"
#include "core/pruned_zeros.h"
#include "core/synthetic.h"
#include "tests/sample_state.h"
#include "worker/local_trainer.h"
#include "worker/mlp_trainer.h"

using xfed::testing::small_data;

namespace xfed {
namespace {

StateLayout two_matrices_and_a_bias() {
  StateLayout layout;
  layout.add("a", {2, 3}, false);
  layout.add("bias", {2}, false);
  layout.add("b", {1, 4}, false);
  return layout;
}

TEST(PrunedZeros, TheSmallestMagnitudesOfAllMatricesTogetherAreCutTiesByPositionBiasesNever) {
  const auto layout = two_matrices_and_a_bias();
  //                       a: 6 entries                    bias          b: 4 entries
  auto state = at::tensor({0.5f, -0.1f, 0.3f, 0.2f, -0.3f, 0.9f, 1e-6f, 0.f, -0.2f, 0.7f, 0.1f, -0.05f});
  // 10 matrix entries by magnitude: .05 (b3), .1 (a1, then b2 by position), .2 (a3, then b0
  // by position), .3 ...: sparsity 0.4 cuts 4, the tie at .2 going to a3 (the earlier position).
  EXPECT_EQ(prune_smallest(state, layout, 0.4), 4);
  EXPECT_TRUE(state.equal(at::tensor({0.5f, 0.f, 0.3f, 0.f, -0.3f, 0.9f, 1e-6f, 0.f, -0.2f, 0.7f, 0.f, 0.f})))
      << state;
  const auto expected_zeros = at::tensor({0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1}, at::kInt).to(at::kBool);
  EXPECT_TRUE(zeros_of(state, layout).equal(expected_zeros)) << "the bias's zero is no pruned weight";
  // Zeros already there are the smallest: a second cut to 0.5 adds one (b0, |.2|).
  EXPECT_EQ(prune_smallest(state, layout, 0.5), 5);
  EXPECT_EQ(state[8].item<float>(), 0.f);
  EXPECT_EQ(state[6].item<float>(), 1e-6f) << "biases are never cut";
  EXPECT_EQ(prune_smallest(state, layout, 0.0), 5) << "nothing cut, zeros counted";
}

// A small mlp with 60 % of its matrix entries pruned, and a copy.
std::pair<Net, Net> pruned_twins(int64_t shared_bits) {
  const auto spec = make_spec("mlp", 1, 6, 6, 10, {24, 12}).value();
  Net a = make_initial_model(spec, 3);
  auto state = read_state(*a);
  prune_smallest(state, layout_of(*a), 0.6);
  if (shared_bits > 0) {  // each matrix on 7 levels (zero one of them): at most 2^3 values
    for (const auto& slot : layout_of(*a).slots) {
      if (slot.shape.size() < 2) continue;
      auto part = state.narrow(0, slot.offset, slot.numel);
      const auto top = part.abs().max();
      part.copy_((part / top * 3).round() * top / 3);
    }
  }
  write_state(*a, state);
  Net b = make_model(spec);
  write_state(*b, read_state(*a));
  return {a, b};
}

TrainOptions pruned_task(double momentum, double wd, double mu, int64_t shared_bits) {
  TrainOptions t;
  t.lr = 0.05, t.momentum = momentum, t.weight_decay = wd, t.prox_mu = mu;
  t.batch = 32, t.seed = 11, t.local_epochs = 2;
  t.shared_weights = shared_bits, t.pruned_zeros = 1;
  return t;
}

TEST(PrunedTraining, ZerosStayZeroOnBothPathsTheOthersMoveAndThePathsAgree) {
  const auto data = small_data(130);
  for (int64_t bits : {0, 3})
    for (const auto& task : {pruned_task(0.9, 0, 0, bits), pruned_task(0.5, 1e-3, 0.1, bits)}) {
      auto [fast, reference] = pruned_twins(bits);
      const auto layout = layout_of(*fast);
      const auto zeros = zeros_of(read_state(*fast), layout);
      ASSERT_GT(zeros.sum().item<int64_t>(), 0);
      worker::train_mlp(*fast, data, task);
      worker::train_autograd(*reference, data, task);
      for (auto* net : {&fast, &reference}) {
        const auto after = read_state(**net);
        EXPECT_TRUE(zeros_of(after, layout).equal(zeros)) << "bits " << bits << ": the zeros and only they are zero";
      }
      const auto a = read_state(*fast), b = read_state(*reference);
      EXPECT_LT((a - b).abs().max().item<float>(), 2e-5) << "as the unpruned paths agree (trainer_test.cc)";
      EXPECT_GT((a - read_state(*pruned_twins(bits).first)).abs().max().item<float>(), 1e-3) << "training moved them";
    }
}

// One step of plain SGD on one batch: a kept weight moves by lr x its gradient on an
// unpruned copy (the same values, zeros included), a pruned one not at all; float32 both
// sides, so within one rounding of the weight and of the step.
TEST(PrunedTraining, AKeptWeightMovesByItsGradientAndAPrunedOneNotAtAll) {
  const auto data = small_data(40);
  auto [net, copy] = pruned_twins(0);
  auto task = pruned_task(0, 0, 0, 0);
  task.batch = 40, task.local_epochs = 1;
  copy->zero_grad();
  torch::nn::functional::cross_entropy(copy->forward(data.images), data.labels).backward();
  worker::train_autograd(*net, data, task);
  constexpr double u = 1.0 / (1 << 24);
  const auto params = net->parameters();
  for (size_t m = 0; m < params.size(); ++m) {
    if (params[m].dim() < 2) continue;
    const auto w0 = copy->parameters()[m].detach().contiguous(), g = copy->parameters()[m].grad().contiguous();
    const auto w1 = params[m].detach().contiguous();
    int64_t pruned = 0;
    for (int64_t i = 0; i < w0.numel(); ++i) {
      const float v0 = w0.data_ptr<float>()[i], gi = g.data_ptr<float>()[i], v1 = w1.data_ptr<float>()[i];
      if (v0 == 0.f) {
        EXPECT_EQ(v1, 0.f) << "parameter " << m << " weight " << i;
        pruned += gi != 0.f;  // a pruned weight whose gradient is not zero: the mask did the work
        continue;
      }
      const double expected = v0 - task.lr * gi;
      EXPECT_NEAR(v1, expected, 2 * u * (std::fabs(v0) + task.lr * std::fabs(gi))) << "parameter " << m << " weight " << i;
    }
    EXPECT_GT(pruned, 0) << "parameter " << m << ": some pruned weight had a gradient";
  }
}

// LeNet-5 on the autograd path trains channels-last: the zeros are found and kept in that
// layout too.
TEST(PrunedTraining, LeNet5ZerosStayZeroOnChannelsLastKernels) {
  Net net = make_initial_model(make_spec("lenet5", 1, 16, 16, 10, {4, 8, 32}).value(), 7);
  auto state = read_state(*net);
  const auto layout = layout_of(*net);
  prune_smallest(state, layout, 0.7);
  write_state(*net, state);
  SyntheticOptions o;
  o.height = o.width = 16;
  o.train_size = 96;
  const auto data = make_synthetic(o).train;
  worker::train_locally(*net, data, pruned_task(0.9, 1e-3, 0, 0));
  const auto after = read_state(*net);
  EXPECT_TRUE(zeros_of(after, layout).equal(zeros_of(state, layout)));
  EXPECT_GT((after - state).abs().max().item<float>(), 1e-3);
}

}  // namespace
}  // namespace xfed
