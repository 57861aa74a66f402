// Trained weight sharing (#20, --share-weights): the clusters of a model's equal weights in
// closed form (centroid space, expand, project), and local training that keeps equal weights
// equal — fast mlp path and autograd alike — moving each centroid by the task's lr times its
// weights' mean gradient.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>

#include <map>
#include <set>

#include "compression/kmeans.h"
#include "core/model_state.h"
#include "core/weight_clusters.h"
#include "worker/local_trainer.h"
#include "worker/mlp_trainer.h"
#include "tests/sample_state.h"

using xfed::testing::small_data;

namespace xfed {
namespace {

TEST(WeightClusters, CentroidSpaceExpandAndProjectInClosedForm) {
  StateLayout layout;
  layout.add("w", {2, 3}, false);
  layout.add("b", {2}, false);
  const auto state = at::tensor({1.f, 2.f, 1.f, 2.f, 3.f, 3.f, 5.f, 5.f});
  const auto c = WeightClusters::of(state, layout);
  ASSERT_EQ(c.centroid_layout().total, 3 + 2) << "w: 3 clusters; b is not shared";
  EXPECT_EQ(c.centroid_layout().slots[0].shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(c.max_clusters(), 3);
  const auto delta = at::tensor({.1f, .2f, .1f, .2f, .3f, .3f, 7.f, 8.f});
  const auto centroids = c.to_centroids(delta);
  EXPECT_TRUE(centroids.equal(at::tensor({.1f, .2f, .3f, 7.f, 8.f})));
  EXPECT_TRUE(c.expand(centroids).equal(delta));
  auto moved = at::tensor({1.f, 2.f, 1.5f, 2.f, 3.f, 5.f, 9.f, 9.f});
  c.project(moved);
  EXPECT_TRUE(moved.equal(at::tensor({1.25f, 2.f, 1.25f, 2.f, 4.f, 4.f, 9.f, 9.f})));
}

// An mlp whose weight matrices hold 4 values each (k-means), and a copy.
std::pair<Net, Net> shared_twins() {
  const auto spec = make_spec("mlp", 1, 6, 6, 10, {24, 12}).value();
  Net a = make_initial_model(spec, 3);
  torch::NoGradGuard no_grad;
  for (auto& p : a->parameters()) {
    if (p.dim() < 2) continue;
    const auto t = p.detach().contiguous();
    auto shared = compression::expand_shared(
        compression::share_weights(std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel()), 4).value());
    p.copy_(at::from_blob(shared.data(), p.sizes(), at::kFloat));
  }
  Net b = make_model(spec);
  write_state(*b, read_state(*a));
  return {a, b};
}

// Per weight matrix: positions grouped by value.
std::vector<std::map<float, std::set<int64_t>>> groups_of(NetImpl& net) {
  std::vector<std::map<float, std::set<int64_t>>> out;
  for (const auto& p : net.parameters()) {
    if (p.dim() < 2) continue;
    const auto t = p.detach().contiguous();
    auto& g = out.emplace_back();
    for (int64_t i = 0; i < t.numel(); ++i) g[t.data_ptr<float>()[i]].insert(i);
  }
  return out;
}

std::vector<std::set<std::set<int64_t>>> partitions_of(NetImpl& net) {
  std::vector<std::set<std::set<int64_t>>> out;
  for (const auto& g : groups_of(net)) {
    auto& parts = out.emplace_back();
    for (const auto& [v, positions] : g) parts.insert(positions);
  }
  return out;
}

TrainOptions shared_task(double momentum, double wd, double mu) {
  TrainOptions t;
  t.lr = 0.05, t.momentum = momentum, t.weight_decay = wd, t.prox_mu = mu;
  t.batch = 32, t.seed = 11, t.local_epochs = 2;
  t.shared_weights = 2;
  return t;
}

TEST(SharedTraining, EqualWeightsStayEqualOnBothPathsAndThePathsAgree) {
  const auto data = small_data(130);
  for (const auto& task : {shared_task(0.9, 0, 0), shared_task(0.5, 1e-3, 0.1)}) {
    auto [fast, reference] = shared_twins();
    const auto before = partitions_of(*fast);
    for (const auto& p : before) EXPECT_EQ(p.size(), 4u);
    ASSERT_TRUE(worker::is_plain_mlp(*fast));
    worker::train_mlp(*fast, data, task);
    worker::train_autograd(*reference, data, task);
    EXPECT_EQ(partitions_of(*fast), before) << "the fast path kept the clusters";
    EXPECT_EQ(partitions_of(*reference), before) << "the autograd path kept the clusters";
    const auto a = read_state(*fast), b = read_state(*reference);
    EXPECT_LT((a - b).abs().max().item<float>(), 2e-5) << "as the unshared paths agree (trainer_test.cc)";
    EXPECT_GT((a - read_state(*shared_twins().first)).abs().max().item<float>(), 1e-3) << "training moved them";
  }
}

// One step of plain SGD (one batch of all 40 samples, no momentum): each centroid moves by
// lr x the mean of its weights' gradients, as autograd gives them on an unshared copy. Both
// sides are float32: the gradient's mean over n weights is within (n+1)u of exact relative
// to the mean of |g| (u = 2^-24), the step one more rounding of |c|.
TEST(SharedTraining, ACentroidMovesByTheMeanGradientOfItsWeights) {
  const auto data = small_data(40);
  auto [net, copy] = shared_twins();
  auto task = shared_task(0, 0, 0);
  task.batch = 40, task.local_epochs = 1;
  const auto groups = groups_of(*net);
  copy->zero_grad();
  torch::nn::functional::cross_entropy(copy->forward(data.images), data.labels).backward();
  worker::train_mlp(*net, data, task);
  constexpr double u = 1.0 / (1 << 24);
  size_t m = 0;
  for (const auto& p : net->parameters()) {
    if (p.dim() < 2) continue;
    const auto g = copy->parameters()[2 * m].grad().contiguous();
    const auto after = p.detach().contiguous();
    for (const auto& [c, positions] : groups[m]) {
      double mean = 0, magnitude = 0;
      for (int64_t i : positions) mean += g.data_ptr<float>()[i], magnitude += std::fabs(g.data_ptr<float>()[i]);
      const double n = static_cast<double>(positions.size());
      mean /= n, magnitude /= n;
      const double bound = task.lr * (n + 1) * u * magnitude + 2 * u * std::fabs(c);
      for (int64_t i : positions)
        EXPECT_NEAR(after.data_ptr<float>()[i], c - task.lr * mean, bound) << "matrix " << m << " weight " << i;
    }
    ++m;
  }
}

}  // namespace
}  // namespace xfed
