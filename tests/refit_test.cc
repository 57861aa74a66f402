// Compensation (pruning/refit.h) against least squares solved directly on the activations,
// and plans that carry refitted weights: on the wire, in the model, in flat states.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/model_state.h"
#include "pruning/refit.h"
#include "pruning/surgery.h"

namespace xfed::pruning {
namespace {

constexpr int64_t kClasses = 3;

// An mlp 8 -> 6 -> 5 -> 3: prunable layers input (8), fc1 (6), fc2 (5).
Net small_mlp() {
  torch::manual_seed(3);
  return make_model(make_spec("mlp", 1, 2, 4, kClasses, {6, 5}).value());
}

// Correlated activations of fc1's 6 units, in float64 (added to the statistics exactly).
struct Activations {
  at::Tensor a;  // [n, 6]
  at::Tensor y;  // [n]
};

Activations activations(int64_t n) {
  at::manual_seed(7);
  const auto y = at::randint(0, kClasses, {n}, at::kLong);
  const auto mix = at::randn({6, 6}, at::kDouble);
  const auto a = (at::randn({n, 6}, at::kDouble) + y.to(at::kDouble).unsqueeze(1)).mm(mix).relu() + 0.1;
  return {a, y};
}

Evidence evidence_for_fc1(const Activations& d) {
  Evidence e;
  e.taps.resize(3);
  auto s = ClassStats::zeros(6, kClasses);
  s.accumulate(d.a, d.y, ClassStats::Rounding::kNone);
  e.taps[1] = s;
  return e;
}

// Cuts units 1 and 4 of fc1 only.
StructurePlan cut_fc1(NetImpl& net) {
  StructurePlan p;
  p.version = 1;
  p.from = net.spec();
  p.kept = {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 2, 3, 5}, {0, 1, 2, 3, 4}};
  return p;
}

const TensorPatch& patch(const std::vector<TensorPatch>& patches, const std::string& name) {
  for (const auto& p : patches)
    if (p.tensor == name) return p;
  throw std::runtime_error("no patch for " + name);
}

at::Tensor as_tensor(const TensorPatch& p) {
  return at::tensor(p.values, at::kFloat).to(at::kDouble);
}

// fc2 (layers.1) is the consumer of fc1. With ridge 0 the refit is ordinary least squares of
// fc2's old outputs on the kept activations and a constant, which lstsq solves directly.
TEST(Refit, ConsumerIsTheLeastSquaresFitOnTheKeptActivations) {
  auto net = small_mlp();
  const auto d = activations(400);
  const auto plan = cut_fc1(*net);
  auto patches = refit_consumers(*net, plan, evidence_for_fc1(d), RefitOptions{0.0});
  ASSERT_TRUE(patches) << patches.message();
  ASSERT_EQ(patches.value().size(), 2u) << "fc2's weight and bias, nothing else";

  auto params = net->named_parameters(true);
  const auto w = params["layers.1.weight"].detach().to(at::kDouble);  // [5, 6]
  const auto b = params["layers.1.bias"].detach().to(at::kDouble);
  const auto target = d.a.mm(w.t()) + b;                                 // [n, 5]
  const auto kept = at::tensor(std::vector<int64_t>{0, 2, 3, 5}, at::kLong);
  const auto design = at::cat({d.a.index_select(1, kept), at::ones({d.a.size(0), 1}, at::kDouble)}, 1);
  const auto solution = std::get<0>(at::linalg_lstsq(design, target));   // [5, 5]: 4 weights + bias
  const auto w_ls = solution.narrow(0, 0, 4).t();                         // [5 outputs, 4 kept]
  const auto b_ls = solution[4];

  // Both are float64 solutions of a well-conditioned problem (~1e-12 apart), then rounded to
  // float32 (relative 2^-24): 1e-5 of the largest weight bounds both with a wide margin.
  const double tol = 1e-5 * w_ls.abs().max().item<double>();
  EXPECT_LE((as_tensor(patch(patches.value(), "layers.1.weight")).view({5, 4}) - w_ls).abs().max().item<double>(), tol);
  EXPECT_LE((as_tensor(patch(patches.value(), "layers.1.bias")) - b_ls).abs().max().item<double>(), tol);
}

// The ridge refit minimises misfit + lambda ||W' - W_K||^2, whose value at W' = W_K (cutting
// the columns off) is the plain slicing's misfit: its misfit lies between the least-squares
// minimum and that.
TEST(Refit, RidgeRefitBeatsPlainSlicing) {
  auto net = small_mlp();
  const auto d = activations(400);
  const auto plan = cut_fc1(*net);
  auto params = net->named_parameters(true);
  const auto w = params["layers.1.weight"].detach().to(at::kDouble);
  const auto b = params["layers.1.bias"].detach().to(at::kDouble);
  const auto target = d.a.mm(w.t()) + b;
  const auto kept = at::tensor(std::vector<int64_t>{0, 2, 3, 5}, at::kLong);
  const auto a_kept = d.a.index_select(1, kept);
  const auto sliced_error = (a_kept.mm(w.index_select(1, kept).t()) + b - target).pow(2).sum().item<double>();
  const auto design = at::cat({a_kept, at::ones({d.a.size(0), 1}, at::kDouble)}, 1);
  const auto ls_error = (design.mm(std::get<0>(at::linalg_lstsq(design, target))) - target).pow(2).sum().item<double>();
  for (double ridge : {1e-3, 1e-1}) {
    auto patches = refit_consumers(*net, plan, evidence_for_fc1(d), RefitOptions{ridge});
    ASSERT_TRUE(patches) << patches.message();
    const auto w2 = as_tensor(patch(patches.value(), "layers.1.weight")).view({5, 4});
    const auto b2 = as_tensor(patch(patches.value(), "layers.1.bias"));
    const double error = (a_kept.mm(w2.t()) + b2 - target).pow(2).sum().item<double>();
    EXPECT_LT(error, sliced_error) << ridge;
    EXPECT_GE(error, ls_error * (1 - 1e-6)) << ridge << ": float32 weights, 1e-6 of slack";
  }
}

TEST(Refit, NothingCutWhereStatisticsExistMeansNoPatch) {
  auto net = small_mlp();
  auto plan = cut_fc1(*net);
  plan.kept[1] = {0, 1, 2, 3, 4, 5};
  plan.kept[2] = {0, 2};  // fc2 is cut, but no statistics of it were gathered
  auto patches = refit_consumers(*net, plan, evidence_for_fc1(activations(50)), {});
  ASSERT_TRUE(patches) << patches.message();
  EXPECT_TRUE(patches.value().empty());
}

// A plan with refitted weights: the bytes round-trip, and the model cut by apply_plan
// (coordinator) holds exactly what slicing and patching a flat state gives (workers).
TEST(Refit, PlanWithRefittedWeightsAppliesIdenticallyToModelAndFlatState) {
  auto net = small_mlp();
  auto plan = cut_fc1(*net);
  auto patches = refit_consumers(*net, plan, evidence_for_fc1(activations(400)), {});
  ASSERT_TRUE(patches) << patches.message();
  plan.patches = patches.value();
  Bytes bytes;
  ByteWriter w(&bytes);
  plan.write(w);
  ByteReader r(bytes);
  auto read = StructurePlan::read(r);
  ASSERT_TRUE(read) << read.message();
  ASSERT_TRUE(r.done());
  ASSERT_EQ(read.value().patches.size(), 2u);
  EXPECT_EQ(read.value().patches[0].values, plan.patches[0].values);

  auto slim = apply_plan(*net, read.value());
  ASSERT_TRUE(slim) << slim.message();
  auto gather = flat_gather_index(*net, read.value());
  ASSERT_TRUE(gather);
  auto flat = slice_and_patch(read_state(*net), gather.value(), layout_of(*slim.value()), read.value());
  ASSERT_TRUE(flat) << flat.message();
  EXPECT_TRUE(at::equal(flat.value(), read_state(*slim.value()))) << "bit for bit";
  auto fc2 = slim.value()->named_parameters(true)["layers.1.weight"].detach().reshape({-1});
  EXPECT_TRUE(at::equal(fc2, at::tensor(plan.patches[0].values, at::kFloat))) << "the refitted weights, not the sliced";
}

TEST(Refit, MalformedPatchesAreErrors) {
  auto net = small_mlp();
  auto plan = cut_fc1(*net);
  auto gather = flat_gather_index(*net, plan);
  ASSERT_TRUE(gather);
  auto slim = make_model(net->spec_after(plan.kept));
  for (auto bad : {TensorPatch{"layers.9.weight", {1.f}}, TensorPatch{"layers.1.bias", {1.f, 2.f}}}) {
    plan.patches = {bad};
    auto flat = slice_and_patch(read_state(*net), gather.value(), layout_of(*slim), plan);
    EXPECT_FALSE(flat) << bad.tensor;
    EXPECT_FALSE(apply_plan(*net, plan)) << bad.tensor;
  }
  plan.patches = {TensorPatch{"layers.1.bias", {1.f, 2.f, std::nanf(""), 4.f, 5.f}}};
  Bytes bytes;
  ByteWriter w(&bytes);
  plan.write(w);
  ByteReader r(bytes);
  auto read = StructurePlan::read(r);
  ASSERT_FALSE(read);
  EXPECT_NE(read.message().find("non-finite"), std::string::npos) << read.message();
  bytes.resize(bytes.size() - 3);  // truncated
  ByteReader t(bytes);
  EXPECT_FALSE(StructurePlan::read(t));
}

}  // namespace
}  // namespace xfed::pruning
