// Channels-last training (core/channels_last.h, #21), step by step: along a LeNet-5 training
// trajectory on the trainer's fast path (the net's convolution weights NHWC under
// ChannelsLastScope), every operation of every step — each layer's forward, the loss
// gradient, each weight's, bias's and input's gradient, ReLU and 2x2 max pooling both ways —
// is a float32 evaluation of what it should compute, from that step's own float32 operands:
// a sum of n products within γ_n·Σ|products| of its exact value (γ_n = nu/(1-nu), u = 2^-24,
// any summation order), ReLU and pooling exact. The NCHW path passes the same checks, so
// the two differ only by float32 rounding in each operation.
//
// Why not one bound on the weights after N steps: a worst-case bound carried through the
// layers assumes every rounding error aligned; on LeNet-5 it reaches 0.1 on the logits of
// one forward and says nothing about a gradient (measured: its median exceeds the gradient's
// largest element). The per-operation check holds each kernel to its own rounding instead.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <map>
#include <optional>
#include <string>

#include "core/channels_last.h"
#include "core/model.h"
#include "tests/fashion_mnist.h"

namespace xfed {
namespace {

constexpr double kU = 1.0 / (1 << 24);
constexpr int64_t kBatch = 64;  // a power of two: the mean's 1/B is exact

double gamma(int64_t n) { return static_cast<double>(n) * kU / (1 - static_cast<double>(n) * kU); }
at::Tensor f64(const at::Tensor& t) { return t.detach().to(at::kDouble).contiguous(); }

// LeNet-5's training step written out (as LeNet5Impl::forward_features), every intermediate
// kept with its gradient; 4-D weights stored as ChannelsLastScope stores them when asked.
struct Step {
  at::Tensor x, w1, b1, w2, b2, w3, b3, w4, b4;
  at::Tensor a1, h1, p1, a2, h2, p2, a3, h3, z;
};

Step training_step(NetImpl& net, const at::Tensor& x, const at::Tensor& y, bool channels_last) {
  auto p = net.named_parameters();
  auto leaf = [&](const char* name) {
    const auto& v = p[name];
    const auto format = channels_last && v.dim() == 4 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    return at::empty_like(v, v.options(), format).copy_(v.detach()).requires_grad_(true);
  };
  Step s;
  s.x = x, s.w1 = leaf("conv1.weight"), s.b1 = leaf("conv1.bias"), s.w2 = leaf("conv2.weight");
  s.b2 = leaf("conv2.bias"), s.w3 = leaf("fc1.weight"), s.b3 = leaf("fc1.bias");
  s.w4 = leaf("fc2.weight"), s.b4 = leaf("fc2.bias");
  s.a1 = at::conv2d(x, s.w1, s.b1), s.h1 = s.a1.relu(), s.p1 = at::max_pool2d(s.h1, 2);
  s.a2 = at::conv2d(s.p1, s.w2, s.b2), s.h2 = s.a2.relu(), s.p2 = at::max_pool2d(s.h2, 2).flatten(1);
  s.a3 = at::linear(s.p2, s.w3, s.b3), s.h3 = s.a3.relu(), s.z = at::linear(s.h3, s.w4, s.b4);
  for (auto* t : {&s.a1, &s.h1, &s.p1, &s.a2, &s.h2, &s.p2, &s.a3, &s.h3, &s.z}) t->retain_grad();
  at::cross_entropy_loss(s.z, y).backward();
  return s;
}

// The net's own gradients for one batch (the trainer's path), NHWC while `channels_last`.
std::map<std::string, at::Tensor> net_gradients(NetImpl& net, const at::Tensor& x, const at::Tensor& y, bool channels_last) {
  std::optional<ChannelsLastScope> scope;
  if (channels_last) scope.emplace(net);
  net.zero_grad();
  at::cross_entropy_loss(net.forward(x), y).backward();
  std::map<std::string, at::Tensor> g;
  for (const auto& p : net.named_parameters()) g[p.key()] = p.value().grad().detach().clone();
  return g;
}

// |computed - exact| <= γ_n·magnitude + slack, elementwise.
void expect_faithful(const at::Tensor& computed, const at::Tensor& exact, const at::Tensor& magnitude, int64_t n,
                     const std::string& what) {
  const auto diff = (f64(computed) - exact).abs(), bound = gamma(n) * magnitude;
  EXPECT_TRUE(diff.le(bound).all().item<bool>()) << what << ": largest difference " << diff.max().item<double>()
                                                  << ", bound there " << bound.flatten()[diff.flatten().argmax()].item<double>();
}

// A bilinear product op(a, b) of n terms per output, computed in float32: against op in
// float64 of the same float32 operands.
template <class Op>
void expect_product(const at::Tensor& computed, Op op, const at::Tensor& a, const at::Tensor& b, int64_t n,
                    const std::string& what) {
  expect_faithful(computed, op(f64(a), f64(b)), op(f64(a).abs(), f64(b).abs()), n, what);
}

// A layer's output: the product with the weight, plus the bias (one more term).
template <class Op>
void expect_layer(const at::Tensor& out, Op op, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                  const std::string& what) {
  const auto bias = w.dim() == 4 ? f64(b).view({1, -1, 1, 1}) : f64(b).view({1, -1});
  expect_faithful(out, op(f64(x), f64(w)) + bias, op(f64(x).abs(), f64(w).abs()) + bias.abs(), w[0].numel() + 1, what);
}

void expect_relu(const at::Tensor& a, const at::Tensor& h, const std::string& what) {
  EXPECT_TRUE(h.equal(a.relu())) << what << " forward";
  EXPECT_TRUE(a.grad().equal(h.grad() * a.gt(0))) << what << " backward";
}

// 2x2 max pooling: each output is its window's largest input; backward, each window's
// gradient goes whole to one input that holds the window's largest value.
void expect_pool(const at::Tensor& h, const at::Tensor& p, const std::string& what) {
  auto windows = [](const at::Tensor& t) { return t.unfold(2, 2, 2).unfold(3, 2, 2).flatten(-2); };
  const auto top = std::get<0>(windows(h.detach()).max(-1));
  EXPECT_TRUE(p.detach().view(top.sizes()).equal(top)) << what << " forward";
  const auto g = windows(h.grad());
  const auto off_top = g.ne(0).logical_and(windows(h.detach()).ne(top.unsqueeze(-1)));
  EXPECT_FALSE(off_top.any().item<bool>()) << what << " backward: a gradient away from the window's largest input";
  EXPECT_TRUE(g.ne(0).sum(-1).le(1).all().item<bool>()) << what << " backward: a window's gradient split";
  EXPECT_TRUE(g.sum(-1).equal(p.grad().view(top.sizes()))) << what << " backward: a window's gradient lost";
}

at::Tensor conv(const at::Tensor& x, const at::Tensor& w) { return at::conv2d(x, w); }
at::Tensor linear(const at::Tensor& x, const at::Tensor& w) { return at::linear(x, w); }
at::Tensor weight_grad(const at::Tensor& g, const at::Tensor& x, at::IntArrayRef w) {
  return std::get<1>(at::convolution_backward(g, x, at::zeros(w, g.options()), at::OptionalIntArrayRef{}, {1, 1}, {0, 0},
                                              {1, 1}, false, {0, 0}, 1, {false, true, false}));
}
at::Tensor input_grad(const at::Tensor& g, const at::Tensor& w, at::IntArrayRef x) {
  return std::get<0>(at::convolution_backward(g, at::zeros(x, g.options()), w, at::OptionalIntArrayRef{}, {1, 1}, {0, 0},
                                              {1, 1}, false, {0, 0}, 1, {true, false, false}));
}

// The loss gradient (softmax(z) - onehot)/B from the step's own logits. Its rounding:
// out = z - m - log Σexp(z - m) within r = 4u(|z - m| + |log Σ| + |out| + 1) + γ_{C+8}
// (each term's and the sum's ulps), exp(out) within 1.01·r relative, the subtraction u.
void expect_loss_gradient(const Step& s, const at::Tensor& y) {
  const auto z = f64(s.z), m = std::get<0>(z.max(1, true));
  const auto lse = (z - m).exp().sum(1, true).log(), out = z - m - lse, p = out.exp();
  const auto exact = (p - at::one_hot(y, z.size(1)).to(at::kDouble)) / kBatch;
  const auto r = 4 * kU * ((z - m).abs() + lse.abs() + out.abs() + 1) + gamma(z.size(1) + 8);
  const auto diff = (f64(s.z.grad()) - exact).abs(), bound = 1.01 * r * p / kBatch + kU * exact.abs();
  EXPECT_TRUE(diff.le(bound).all().item<bool>()) << "loss gradient: largest difference " << diff.max().item<double>();
}

void expect_bias_gradient(const at::Tensor& bias, const at::Tensor& g, std::vector<int64_t> dims, const std::string& what) {
  const auto per_output = g.numel() / g.size(1);
  expect_faithful(bias.grad(), f64(g).sum(dims), f64(g).abs().sum(dims), per_output, what);
}

// Every operation of one step against its exact value from its own operands.
void expect_step_faithful(const Step& s, const at::Tensor& y) {
  const auto mm_t = [](const at::Tensor& g, const at::Tensor& x) { return g.t().mm(x); };
  const auto mm = [](const at::Tensor& g, const at::Tensor& w) { return g.mm(w); };
  expect_layer(s.a1, conv, s.x, s.w1, s.b1, "conv1");
  expect_relu(s.a1, s.h1, "relu1");
  expect_pool(s.h1, s.p1, "pool1");
  expect_layer(s.a2, conv, s.p1, s.w2, s.b2, "conv2");
  expect_relu(s.a2, s.h2, "relu2");
  expect_pool(s.h2, s.p2, "pool2");
  expect_layer(s.a3, linear, s.p2, s.w3, s.b3, "fc1");
  expect_relu(s.a3, s.h3, "relu3");
  expect_layer(s.z, linear, s.h3, s.w4, s.b4, "fc2");
  expect_loss_gradient(s, y);
  expect_product(s.w4.grad(), mm_t, s.z.grad(), s.h3, kBatch, "fc2.weight gradient");
  expect_bias_gradient(s.b4, s.z.grad(), {0}, "fc2.bias gradient");
  expect_product(s.h3.grad(), mm, s.z.grad(), s.w4, s.w4.size(0), "fc2 input gradient");
  expect_product(s.w3.grad(), mm_t, s.a3.grad(), s.p2, kBatch, "fc1.weight gradient");
  expect_bias_gradient(s.b3, s.a3.grad(), {0}, "fc1.bias gradient");
  expect_product(s.p2.grad(), mm, s.a3.grad(), s.w3, s.w3.size(0), "fc1 input gradient");
  const auto w2 = s.w2.sizes(), p1 = s.p1.sizes(), w1 = s.w1.sizes();
  const auto conv2_terms = s.a2.numel() / s.a2.size(1), conv1_terms = s.a1.numel() / s.a1.size(1);
  expect_product(s.w2.grad(), [&](const auto& g, const auto& x) { return weight_grad(g, x, w2); }, s.a2.grad(), s.p1,
                 conv2_terms, "conv2.weight gradient");
  expect_bias_gradient(s.b2, s.a2.grad(), {0, 2, 3}, "conv2.bias gradient");
  expect_product(s.p1.grad(), [&](const auto& g, const auto& w) { return input_grad(g, w, p1); }, s.a2.grad(), s.w2,
                 s.w2.size(0) * s.w2.size(2) * s.w2.size(3), "conv2 input gradient");
  expect_product(s.w1.grad(), [&](const auto& g, const auto& x) { return weight_grad(g, x, w1); }, s.a1.grad(), s.x,
                 conv1_terms, "conv1.weight gradient");
  expect_bias_gradient(s.b1, s.a1.grad(), {0, 2, 3}, "conv1.bias gradient");
}

void expect_net_computes_the_step(const std::map<std::string, at::Tensor>& net, const Step& s) {
  const std::map<std::string, at::Tensor> step{{"conv1.weight", s.w1.grad()}, {"conv1.bias", s.b1.grad()},
                                               {"conv2.weight", s.w2.grad()}, {"conv2.bias", s.b2.grad()},
                                               {"fc1.weight", s.w3.grad()},   {"fc1.bias", s.b3.grad()},
                                               {"fc2.weight", s.w4.grad()},   {"fc2.bias", s.b4.grad()}};
  for (const auto& [name, g] : step) EXPECT_TRUE(net.at(name).equal(g)) << name << ": the written-out step is not the net's";
}

TEST(ChannelsLast, EveryOperationOfLeNet5TrainingStepsOnNhwcKernelsIsAFaithfulFloat32Evaluation) {
  Net net = make_initial_model(make_spec("lenet5", 1, 28, 28, 10, {20, 50, 500}).value(), 8);
  net->train();
  const auto& data = testing::fashion_mnist().test;
  bool layouts_differ = false;
  for (int64_t step = 0; step < 6; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const auto x = data.images.narrow(0, step * kBatch, kBatch), y = data.labels.narrow(0, step * kBatch, kBatch);
    std::map<std::string, at::Tensor> gradients[2];
    for (bool channels_last : {false, true}) {
      SCOPED_TRACE(channels_last ? "NHWC" : "NCHW");
      gradients[channels_last] = net_gradients(*net, x, y, channels_last);
      const auto s = training_step(*net, x, y, channels_last);
      if (channels_last) {
        EXPECT_TRUE(s.w2.is_contiguous(at::MemoryFormat::ChannelsLast));
      }
      expect_net_computes_the_step(gradients[channels_last], s);
      expect_step_faithful(s, y);
    }
    layouts_differ = layouts_differ || !gradients[0].at("conv2.weight").equal(gradients[1].at("conv2.weight"));
    torch::NoGradGuard no_grad;  // the fast path trains on its own gradients
    for (auto& p : net->named_parameters()) p.value().sub_(gradients[1].at(p.key()) * 0.05);
  }
  EXPECT_TRUE(layouts_differ) << "the layouts computed the same: is the scope still on the NHWC kernels?";
}

}  // namespace
}  // namespace xfed
