// Fused ReLU + 2x2 max pooling (core/models/relu_max_pool.h, #21): the output and the input's
// gradient equal LibTorch's unfused relu → max_pool2d → backward bit for bit (compared as
// bits, so NaN, -0 and ties count), on channels-last maps of odd and even sizes, one or many
// channels, windows of ties, non-positive windows and NaN; a hand-made window in closed form;
// NCHW input and DI's taps go the unfused way and give the same.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <limits>
#include <vector>

#include "core/models/relu_max_pool.h"

namespace xfed {
namespace {

constexpr auto kNhwc = at::MemoryFormat::ChannelsLast;

// Equal as bit patterns (NaN payloads and signed zeros included), any memory order.
bool same_bits(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && a.contiguous().view(at::kInt).equal(b.contiguous().view(at::kInt));
}

// Random values in steps of 0.5 in [-2, 2] (so windows hold ties and non-positive maxima),
// with a few NaN when `nans`.
at::Tensor coarse_map(std::vector<int64_t> sizes, uint64_t seed, bool nans) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto x = at::randint(-4, 5, sizes, gen, at::kFloat) * 0.5;
  if (nans) x.view(-1).index_put_({at::randint(0, x.numel(), {3}, gen)}, std::numeric_limits<float>::quiet_NaN());
  return x.contiguous(kNhwc);
}

struct Pass {
  at::Tensor out, grad;
};

// Forward on a fresh leaf copy of `x` (through a multiplication by one, as a layer's output
// is a non-leaf), backward with `grad_out`.
template <typename Pool>
Pass run(const at::Tensor& x, const at::Tensor& grad_out, Pool pool) {
  auto leaf = x.clone().requires_grad_(true);
  auto out = pool(leaf * 1.0f);
  out.backward(grad_out);
  return {out.detach(), leaf.grad()};
}

Pass fused(const at::Tensor& x, const at::Tensor& g) {
  return run(x, g, [](at::Tensor t) { return relu_max_pool2(t); });
}
Pass unfused(const at::Tensor& x, const at::Tensor& g) {
  return run(x, g, [](at::Tensor t) { return at::max_pool2d(t.relu_(), 2); });
}

TEST(ReluMaxPool, EqualsLibTorchsReluAndPoolingBitForBitOnChannelsLastMaps) {
  const std::vector<std::vector<int64_t>> shapes = {
      {64, 20, 24, 24}, {3, 50, 8, 8}, {2, 7, 5, 9}, {1, 1, 2, 2}, {4, 1, 7, 6}, {2, 3, 3, 2}};
  uint64_t seed = 1;
  for (const auto& s : shapes) {
    for (bool nans : {false, true}) {
      const auto x = coarse_map(s, seed++, nans);
      ASSERT_TRUE(x.is_contiguous(kNhwc));
      const std::vector<int64_t> pooled = {s[0], s[1], s[2] / 2, s[3] / 2};
      const auto g = at::randn(pooled, at::make_generator<at::CPUGeneratorImpl>(seed++)).contiguous(kNhwc);
      const auto a = fused(x, g), b = unfused(x, g);
      EXPECT_TRUE(same_bits(a.out, b.out)) << "output, shape " << x.sizes() << " nans " << nans;
      EXPECT_TRUE(same_bits(a.grad, b.grad)) << "gradient, shape " << x.sizes() << " nans " << nans;
      EXPECT_TRUE(a.out.is_contiguous(kNhwc));
      // An NCHW gradient from the layer above is read by its logical indices.
      const auto c = fused(x, g.contiguous());
      EXPECT_TRUE(same_bits(c.grad, b.grad)) << "NCHW gradient, shape " << x.sizes();
    }
  }
}

TEST(ReluMaxPool, OneWindowInClosedForm) {
  // Channel 0: a tie of 3 at positions 1 and 3 (the first wins); channel 1: no positive value
  // (output 0, no gradient); channel 2: a NaN at position 2 after a larger number.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> nhwc = {1, -1, 5,    3, -2, 1,     // (0,0), (0,1)
                                   2, -3, nan,  3, 0, 4};     // (1,0), (1,1)
  const auto x = at::tensor(nhwc).view({1, 2, 2, 3}).permute({0, 3, 1, 2});
  ASSERT_TRUE(x.is_contiguous(kNhwc));
  const auto g = at::tensor(std::vector<float>{10, 20, 30}).view({1, 3, 1, 1});
  const auto p = fused(x, g);
  EXPECT_EQ(p.out[0][0][0][0].item<float>(), 3.f);
  EXPECT_EQ(p.out[0][1][0][0].item<float>(), 0.f);
  EXPECT_TRUE(std::isnan(p.out[0][2][0][0].item<float>()));
  auto expected = at::zeros({1, 3, 2, 2});
  expected[0][0][0][1] = 10;  // the first 3, position (0,1)
  expected[0][2][1][0] = 30;  // the NaN
  EXPECT_TRUE(p.grad.equal(expected)) << p.grad;
}

TEST(ReluMaxPool, NchwInputAndTapsGoTheUnfusedWayWithTheSameResult) {
  const auto x = coarse_map({2, 4, 6, 6}, 7, false);
  const auto g = at::randn({2, 4, 3, 3});
  const auto reference = unfused(x, g);
  const auto nchw = fused(x.contiguous(), g);
  EXPECT_TRUE(same_bits(nchw.out, reference.out));
  EXPECT_TRUE(same_bits(nchw.grad, reference.grad));
  EXPECT_TRUE(nchw.out.is_contiguous());  // LibTorch's kernel kept NCHW

  std::vector<at::Tensor> taps;
  const auto tapped = run(x, g, [&](at::Tensor t) { return relu_max_pool2(t, &taps); });
  ASSERT_EQ(taps.size(), 1u);
  EXPECT_TRUE(same_bits(taps[0].detach(), x.relu()));
  EXPECT_TRUE(same_bits(tapped.out, reference.out));
  EXPECT_TRUE(same_bits(tapped.grad, reference.grad));
}

TEST(ReluMaxPool, WithoutGradientsTheFusedForwardGivesTheSameOutput) {
  const auto x = coarse_map({5, 20, 12, 12}, 11, true);
  at::Tensor out;
  {
    at::NoGradGuard no_grad;
    out = relu_max_pool2(x.clone());
  }
  EXPECT_TRUE(same_bits(out, at::max_pool2d(x.relu(), 2)));
}

}  // namespace
}  // namespace xfed
