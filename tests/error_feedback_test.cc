#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "compression/state_codec.h"
#include "worker/error_feedback.h"

namespace xfed::worker {
namespace {

StateLayout layout_of_size(int64_t n) {
  StateLayout l;
  l.add("w", {n}, false);
  return l;
}

compression::Pipeline parse(const std::string& s) {
  return compression::Pipeline::parse(s).value_or_throw();
}

// Nothing is lost, only delayed: sum of what was sent + final residual = sum of inputs.
TEST(ErrorFeedback, ConservesMass) {
  const int64_t n = 5000;
  const auto layout = layout_of_size(n);
  ClientStateStore store;
  at::manual_seed(1);
  auto inputs = at::zeros({n}), sent = at::zeros({n});
  for (int round = 0; round < 30; ++round) {
    const auto delta = at::randn({n});
    inputs += delta;
    auto& state = store.get(7, n, false);
    auto u = compress_update(delta, layout, parse("topk:0.01,qsgd:4"), round, true, 0.0, state);
    ASSERT_TRUE(u) << u.message();
    // What the coordinator decodes is what the worker thinks it sent.
    std::vector<float> decoded(n);
    ByteReader r(u.value().payload);
    ASSERT_TRUE(compression::decode_state(r, layout, parse("topk:0.01,qsgd:4").codec_ids(), decoded.data()));
    EXPECT_TRUE(at::from_blob(decoded.data(), {n}).equal(u.value().sent));
    sent += u.value().sent;
  }
  const auto residual = store.get(7, n, false).residual;
  EXPECT_GT(residual.abs().sum().item<float>(), 1.0f) << "most of the mass is still waiting";
  EXPECT_TRUE((sent + residual).allclose(inputs, 1e-4, 1e-4));
}

TEST(ErrorFeedback, LosslessOrDisabledKeepsNoResidual) {
  const int64_t n = 300;
  const auto layout = layout_of_size(n);
  ClientStateStore store;
  const auto delta = at::randn({n});
  auto& s1 = store.get(1, n, false);
  auto u = compress_update(delta, layout, parse("none"), 0, true, 0.0, s1);
  ASSERT_TRUE(u);
  EXPECT_TRUE(u.value().sent.equal(delta));
  EXPECT_EQ(s1.residual.abs().sum().item<float>(), 0.0f);
  auto& s2 = store.get(2, n, false);
  ASSERT_TRUE(compress_update(delta, layout, parse("topk:0.1"), 0, false, 0.0, s2));
  EXPECT_EQ(s2.residual.abs().sum().item<float>(), 0.0f) << "EF disabled";
}

TEST(ErrorFeedback, MomentumCorrectionMasksWhatWasSent) {
  const int64_t n = 1000;
  const auto layout = layout_of_size(n);
  ClientStateStore store;
  auto& s = store.get(3, n, true);
  const auto delta = at::randn({n});
  auto u = compress_update(delta, layout, parse("topk:0.05"), 0, true, 0.9, s);
  ASSERT_TRUE(u);
  const auto sent_mask = u.value().sent.ne(0);
  EXPECT_EQ(sent_mask.sum().item<int64_t>(), 50);
  EXPECT_EQ(s.velocity.masked_select(sent_mask).abs().sum().item<float>(), 0.0f);
  // First round: u = delta, v = delta, so unsent velocity equals delta there.
  EXPECT_TRUE(s.velocity.masked_select(~sent_mask).equal(delta.masked_select(~sent_mask)));
  EXPECT_TRUE((u.value().sent + s.residual).allclose(delta));
}

TEST(ClientStateStore, StateIsPerClientAndResetOnLayoutChange) {
  ClientStateStore store;
  store.get(1, 10, false).residual.fill_(1.0f);
  EXPECT_EQ(store.get(2, 10, false).residual.sum().item<float>(), 0.0f);
  EXPECT_EQ(store.get(1, 10, false).residual.sum().item<float>(), 10.0f);
  EXPECT_EQ(store.get(1, 8, false).residual.sum().item<float>(), 0.0f) << "pruned model";
  EXPECT_EQ(store.size(), 2u);
}

TEST(ClientStateStore, SerializesAndRestoresEveryClient) {
  ClientStateStore store;
  store.get(3, 6, true).residual.copy_(at::arange(6, at::kFloat));
  store.get(3, 6, true).velocity.fill_(-2.0f);
  store.get(7, 6, false).residual.fill_(0.5f);
  const Bytes bytes = store.serialize();

  ClientStateStore back;
  ByteReader r(bytes.data(), bytes.size());
  ASSERT_TRUE(back.restore(r));
  EXPECT_EQ(back.size(), 2u);
  EXPECT_TRUE(back.get(3, 6, true).residual.equal(at::arange(6, at::kFloat)));
  EXPECT_EQ(back.get(3, 6, true).velocity.sum().item<float>(), -12.0f);
  EXPECT_EQ(back.get(7, 6, false).residual.sum().item<float>(), 3.0f);
  EXPECT_FALSE(back.get(7, 6, false).velocity.defined());
  EXPECT_EQ(back.serialize(), bytes) << "a stable file for the same state";

  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    ClientStateStore bad;
    bad.get(1, 4, false);
    ByteReader rb(bytes.data(), cut);
    EXPECT_FALSE(bad.restore(rb)) << "truncated to " << cut;
    EXPECT_EQ(bad.size(), 0u) << "a failed restore leaves nothing half-read";
  }
}

}  // namespace
}  // namespace xfed::worker
