// Models for devices (#20): a model exported to an .xdc file (weights pruned to zero, shared,
// every format) predicts what the LibTorch model holding the same weights predicts on
// Fashion-MNIST's test set. LibTorch computes in float32 (each output within
// γ_n·(Σ|w x| + |b|) of exact, n the fan-in + 2, γ_n = nu/(1-nu), u = 2^-24, in any summation
// order), the file's inference in float64 rounded per layer (deploy/compact_inference.h); the
// test carries both bounds through the layers (ReLU and max pooling do not increase a
// difference) with LibTorch's own activations, checks every logit against it, and requires
// equal predictions wherever the bound decides the top class (at least 95 % of samples).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/functional/loss.h>

#include "core/model.h"
#include "deploy/compact_inference.h"
#include "deploy/export_compact.h"
#include "deploy/xdc_file.h"
#include "tests/fashion_mnist.h"

namespace xfed::deploy {
namespace {

// A few hundred SGD steps: a model whose logits are spread like a trained one's.
void train_briefly(NetImpl& net, int steps) {
  const auto& train = testing::fashion_mnist().train;
  for (int s = 0; s < steps; ++s) {
    const auto x = train.images.narrow(0, s * 32 % 50000, 32), y = train.labels.narrow(0, s * 32 % 50000, 32);
    net.zero_grad();
    torch::nn::functional::cross_entropy(net.forward(x), y).backward();
    torch::NoGradGuard no_grad;
    for (auto& p : net.parameters()) p.sub_(p.grad() * 0.05);
  }
}

// The model's weights with the smaller 60 % of each weight tensor set to zero.
NamedArrays pruned_state(NetImpl& net) {
  NamedArrays state;
  for (const auto& p : net.named_parameters()) {
    auto t = p.value().detach().clone().contiguous();
    if (p.key().find("weight") != std::string::npos) {
      const auto cut = std::get<0>(t.abs().flatten().kthvalue(static_cast<int64_t>(t.numel() * 0.6)));
      t.masked_fill_(t.abs() <= cut, 0.0);
    }
    state[p.key()] = std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  }
  return state;
}

void load_weights(NetImpl& net, const CompactModel& model) {
  torch::NoGradGuard no_grad;
  auto params = net.named_parameters();
  for (const auto& l : model.layers) {
    auto w = dense_weights(l).values;
    auto& weight = params[l.shape.name + ".weight"];
    weight.copy_(at::from_blob(w.data(), weight.sizes(), at::kFloat));
    params[l.shape.name + ".bias"].copy_(at::from_blob(const_cast<float*>(l.bias.data()), {l.shape.out}, at::kFloat));
  }
}

constexpr double kU = 1.0 / (1 << 24);

// |compact - LibTorch| per output of one layer, from the bound on its input's difference.
at::Tensor next_bound(const CompactLayer& l, NetImpl& net, const at::Tensor& x_torch, const at::Tensor& e) {
  auto params = net.named_parameters();
  const auto w = params[l.shape.name + ".weight"].detach().to(at::kDouble).abs();
  const auto b = params[l.shape.name + ".bias"].detach().to(at::kDouble).abs();
  const auto x = x_torch.detach().to(at::kDouble).abs();
  const bool conv = l.shape.kind == LayerKind::kConv;
  const auto a = conv ? at::conv2d(x, w, b) : at::linear(x, w, b);
  const auto carried = conv ? at::conv2d(e, w) : at::linear(e, w);
  const double n = static_cast<double>(l.shape.cols() + 2), gamma = n * kU / (1 - n * kU);
  return carried + gamma * a + (2 * kU + 1e-12) * (a + carried);
}

// The bound on every logit of `x`'s samples, layer by layer with LibTorch's activations.
at::Tensor logit_bound(NetImpl& net, const CompactModel& model, const at::Tensor& x) {
  std::vector<at::Tensor> taps;
  net.forward_features(x, &taps);
  const bool lenet = model.spec.arch == "lenet5";
  at::Tensor e;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    at::Tensor input;
    if (!lenet) input = taps[i];
    else if (i == 0) input = x;
    else if (i == 1) input = at::max_pool2d(taps[0], 2), e = at::max_pool2d(e, 2);
    else if (i == 2) input = at::max_pool2d(taps[1], 2).flatten(1), e = at::max_pool2d(e, 2).flatten(1);
    else input = taps[2];
    if (i == 0) e = at::zeros_like(input, at::kDouble);
    e = next_bound(model.layers[i], net, input, e);
  }
  return e;
}

void expect_same_predictions(NetImpl& net, const CompactModel& exported, int64_t samples) {
  torch::NoGradGuard no_grad;
  const auto model = decode_xdc(encode_xdc(exported), "m.xdc").value();  // through the file
  load_weights(net, model);
  const auto x = testing::fashion_mnist().test.images.narrow(0, 0, samples);
  const auto torch_logits = net.forward(x).to(at::kDouble);
  const auto bound = logit_bound(net, model, x);
  const auto t = x.contiguous();
  const auto logits = compact_logits(model, std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel()), samples).value();
  const auto compact = at::from_blob(const_cast<float*>(logits.data()), torch_logits.sizes(), at::kFloat).to(at::kDouble);
  EXPECT_TRUE((compact - torch_logits).abs().le(bound).all().item<bool>())
      << "largest difference " << (compact - torch_logits).abs().max().item<double>() << ", bound there "
      << bound.flatten()[(compact - torch_logits).abs().flatten().argmax()].item<double>();
  const auto top = torch_logits.argmax(1);
  const auto low = (torch_logits - bound).gather(1, top.unsqueeze(1)).squeeze(1);
  const auto high = (torch_logits + bound).scatter(1, top.unsqueeze(1), -1e300).amax(1);
  const auto decided = low.gt(high);
  const auto same = compact.argmax(1).eq(top);
  // The worst-case bound leaves about 1 % of samples undecided (here: mlp 1980 of 2000,
  // LeNet-5 497 of 500); 95 % keeps the test's power on any CPU's training.
  EXPECT_GE(decided.sum().item<int64_t>(), samples * 95 / 100) << "the bound decides too few samples to test";
  EXPECT_TRUE(same.logical_or(decided.logical_not()).all().item<bool>())
      << decided.logical_and(same.logical_not()).sum().item<int64_t>() << " decided samples predicted differently";
}

TEST(CompactPredictions, AnExportedMlpPredictsAsLibTorchInEveryFormat) {
  const auto spec = make_spec("mlp", 1, 28, 28, 10, {300, 100}).value();
  Net net = make_initial_model(spec, 3);
  train_briefly(*net, 300);
  const auto state = pruned_state(*net);
  for (MatrixFormat f : kAllFormats) {
    SCOPED_TRACE(format_name(f));
    expect_same_predictions(*net, build_compact(spec, state, {f, 4}).value(), 2000);
  }
}

TEST(CompactPredictions, AnExportedLeNet5PredictsAsLibTorchInTheSharedFormats) {
  const auto spec = make_spec("lenet5", 1, 28, 28, 10, {20, 50, 500}).value();
  Net net = make_initial_model(spec, 4);
  train_briefly(*net, 300);
  const auto state = pruned_state(*net);
  for (MatrixFormat f : {MatrixFormat::kCer, MatrixFormat::kCser}) {
    SCOPED_TRACE(format_name(f));
    expect_same_predictions(*net, build_compact(spec, state, {f, 5}).value(), 500);
  }
}

}  // namespace
}  // namespace xfed::deploy
