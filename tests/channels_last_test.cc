// Channels-last convolutions (core/channels_last.h, #21): the scope stores a CNN's
// convolution weights NHWC and puts them back bit for bit, and LeNet-5's logits on the NHWC
// kernels equal the NCHW kernels' within float32's bound. Each layer's outputs are, in any
// summation order, within γ_n·(Σ|w x| + |b|) of exact (n the fan-in + 2, γ_n = nu/(1-nu),
// u = 2^-24); the test carries the two layouts' bounds through the layers from the NCHW
// activations (ReLU and max pooling do not increase a difference) and checks every logit.
// Training: each convolution's backward (the input's and the weight's gradient) on the two
// layouts, from the same inputs, within twice the same bound of each other. The probe for
// models xfed did not write (TorchScript) tells a forward for any layout from one that is not.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "core/channels_last.h"
#include "core/model.h"
#include "core/model_state.h"
#include "tests/fashion_mnist.h"

namespace xfed {
namespace {

constexpr double kU = 1.0 / (1 << 24);

Net lenet5(uint64_t seed) { return make_initial_model(make_spec("lenet5", 1, 28, 28, 10, {20, 50, 500}).value(), seed); }

// |NHWC - NCHW| per output of layer `name`, from the bound `e` on its input's difference and
// the NCHW input `x`: the difference carried through |W|, and each layout's own rounding.
at::Tensor next_bound(NetImpl& net, const std::string& name, const at::Tensor& x, const at::Tensor& e) {
  auto params = net.named_parameters();
  const auto w = params[name + ".weight"].detach().to(at::kDouble).abs();
  const auto b = params[name + ".bias"].detach().to(at::kDouble).abs();
  const bool conv = w.dim() == 4;
  const auto ax = x.detach().to(at::kDouble).abs();
  const auto a = conv ? at::conv2d(ax, w, b) : at::linear(ax, w, b);
  const auto carried = conv ? at::conv2d(e, w) : at::linear(e, w);
  const double n = static_cast<double>(w[0].numel() + 2), gamma = n * kU / (1 - n * kU);
  return carried + gamma * (2 * a + carried);
}

// The bound on every logit of LeNet-5 (conv1, pool, conv2, pool, fc1, fc2) for inputs x.
at::Tensor logit_bound(NetImpl& net, const at::Tensor& x) {
  std::vector<at::Tensor> taps;  // NCHW activations after conv1, conv2, fc1 (and their ReLU)
  net.forward_features(x, &taps);
  auto e = next_bound(net, "conv1", x, at::zeros_like(x, at::kDouble));
  e = next_bound(net, "conv2", at::max_pool2d(taps[0], 2), at::max_pool2d(e, 2));
  e = next_bound(net, "fc1", at::max_pool2d(taps[1], 2).flatten(1), at::max_pool2d(e, 2).flatten(1));
  return next_bound(net, "fc2", taps[2], e);
}

// |a - b| <= 2·γ_n·sum elementwise (n summands each).
void expect_within(const at::Tensor& a, const at::Tensor& b, const at::Tensor& sum, int64_t n, const char* what) {
  const double gamma = n * kU / (1 - n * kU);
  const auto diff = (a.to(at::kDouble) - b.to(at::kDouble)).abs();
  EXPECT_TRUE(diff.le(2 * gamma * sum).all().item<bool>()) << what << ": largest difference " << diff.max().item<double>();
}

// One convolution's gradients with its weight stored NCHW and NHWC, from the same input and
// upstream gradient; each gradient element is a sum of products, bounded by the same sum
// of their magnitudes (computed in float64).
void expect_backward_within_bounds(int64_t batch, int64_t in, int64_t out, int64_t size, bool kernels_differ) {
  at::manual_seed(7);
  const auto x = at::randn({batch, in, size, size}), w = at::randn({out, in, 5, 5}) * 0.1;
  const auto gy = at::randn({batch, out, size - 4, size - 4});
  auto backward = [&](const at::Tensor& input, const at::Tensor& weight, const at::Tensor& grad) {
    return at::convolution_backward(grad, input, weight, at::IntArrayRef{out}, {1, 1}, {0, 0}, {1, 1}, false, {0, 0}, 1,
                                    {true, true, false});
  };
  const auto nchw = backward(x, w, gy);
  const auto nhwc = backward(x, at::empty_like(w, w.options(), at::MemoryFormat::ChannelsLast).copy_(w), gy);
  const auto mag = backward(x.abs().to(at::kDouble), w.abs().to(at::kDouble), gy.abs().to(at::kDouble));
  expect_within(std::get<0>(nhwc), std::get<0>(nchw), std::get<0>(mag), out * 25 + 1, "input gradient");
  expect_within(std::get<1>(nhwc), std::get<1>(nchw), std::get<1>(mag), batch * (size - 4) * (size - 4) + 1,
                "weight gradient");
  if (kernels_differ) {
    EXPECT_FALSE(std::get<1>(nhwc).equal(std::get<1>(nchw))) << "the kernels did not change";
  }
}

TEST(ChannelsLast, LeNet5ConvolutionGradientsOnNhwcKernelsEqualNchwWithinFloat32Bounds) {
  expect_backward_within_bounds(64, 1, 20, 28, false);  // conv1 (one input channel: maybe the same order)
  expect_backward_within_bounds(64, 20, 50, 12, true);   // conv2
}

TEST(ChannelsLast, TheScopeStoresConvolutionWeightsNhwcAndPutsThemBackBitForBit) {
  Net net = lenet5(5);
  const auto before = read_state(*net);
  auto conv2 = net->named_parameters()["conv2.weight"];
  {
    ChannelsLastScope scope(*net);
    EXPECT_TRUE(scope.active());
    EXPECT_TRUE(conv2.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_FALSE(conv2.is_contiguous());
    EXPECT_TRUE(read_state(*net).equal(before));  // the same values, in another memory order
  }
  EXPECT_TRUE(conv2.is_contiguous());
  EXPECT_TRUE(read_state(*net).equal(before));
  Net mlp = make_initial_model(make_spec("mlp", 1, 28, 28, 10, {30, 20}).value(), 5);
  EXPECT_FALSE(ChannelsLastScope(*mlp).active());  // no convolution, nothing to do
}

TEST(ChannelsLast, LeNet5LogitsOnNhwcKernelsEqualNchwWithinFloat32Bounds) {
  Net net = lenet5(6);
  torch::NoGradGuard no_grad;
  net->eval();
  const auto x = testing::fashion_mnist().test.images.narrow(0, 0, 500);
  const auto nchw = net->forward(x).to(at::kDouble);
  const auto bound = logit_bound(*net, x);
  at::Tensor nhwc;
  {
    ChannelsLastScope scope(*net);
    nhwc = net->forward(x).to(at::kDouble);
  }
  const auto diff = (nhwc - nchw).abs();
  EXPECT_TRUE(diff.le(bound).all().item<bool>()) << "largest difference " << diff.max().item<double>()
                                                  << ", bound there " << bound.flatten()[diff.flatten().argmax()].item<double>();
  EXPECT_GT(diff.max().item<double>(), 0.0) << "the kernels did not change: is the scope still faster?";
}

// A one-convolution CNN for the probe: its forward hands the pooled maps to the classifier
// through flatten (right on any layout), a .view() (fails on channels-last maps) or
// as_strided (reads them in memory order: other values on channels-last).
class TinyCnn : public NetImpl {
 public:
  enum class Handover { kFlatten, kView, kMemoryOrder };
  explicit TinyCnn(Handover h) : NetImpl(make_spec("lenet5", 1, 28, 28, 10, {}).value()), handover_(h) {
    conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 5)));
    fc_ = register_module("fc", torch::nn::Linear(4 * 12 * 12, 10));
  }
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>*) override {
    const auto h = at::max_pool2d(conv_->forward(x).relu(), 2);
    const int64_t n = h.size(0), features = 4 * 12 * 12;
    switch (handover_) {
      case Handover::kFlatten: return fc_->forward(h.flatten(1));
      case Handover::kView: return fc_->forward(h.view({n, features}));
      case Handover::kMemoryOrder: return fc_->forward(h.as_strided({n, features}, {features, 1}));
    }
    return {};
  }

 private:
  Handover handover_;
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

TEST(ChannelsLast, TheProbeAcceptsAForwardForAnyLayoutAndRefusesOneThatViewsOrReadsMemoryOrder) {
  using H = TinyCnn::Handover;
  for (auto [handover, agrees] : {std::pair{H::kFlatten, true}, {H::kView, false}, {H::kMemoryOrder, false}}) {
    TinyCnn net(handover);
    net.train();
    const auto before = read_state(net);
    EXPECT_EQ(forward_agrees_channels_last(net), agrees) << static_cast<int>(handover);
    EXPECT_TRUE(read_state(net).equal(before)) << "the probe changed the model";
    EXPECT_TRUE(net.is_training()) << "the probe left the model in eval mode";
    EXPECT_TRUE(net.named_parameters()["conv.weight"].is_contiguous()) << "the probe left the weights NHWC";
  }
  Net mlp = make_initial_model(make_spec("mlp", 1, 28, 28, 10, {30, 20}).value(), 5);
  EXPECT_FALSE(forward_agrees_channels_last(*mlp)) << "no convolution: nothing to gain";
}

}  // namespace
}  // namespace xfed
