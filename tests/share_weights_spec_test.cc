// --share-weights' schedule (#20): the gradual magnitude-pruning steps in closed form
// (Zhu & Gupta: S·(1 - (1 - t/N)^3) at the end of round round(P·t/N)), where DI pruning ends,
// and the run identity that a resume and the edge workers compare.
#include <gtest/gtest.h>

#include "coordinator/share_weights.h"

namespace xfed::coordinator {
namespace {

TEST(ShareWeightsSpec, GradualPruningStepsInClosedForm) {
  const auto spec = parse_share_weights("bits=3,after=10,sparsity=0.8,prune_after=6,prune_steps=3", 12).value();
  // Steps at rounds 2, 4, 6: 0.8·(1 - (2/3)^3) = 0.8·19/27, 0.8·(1 - 1/27) = 0.8·26/27, 0.8.
  const std::vector<double> expected{0, 0, 0.8 * 19 / 27, 0, 0.8 * 26 / 27, 0, 0.8, 0, 0, 0, 0, 0, 0};
  for (int64_t r = 0; r <= 12; ++r) EXPECT_NEAR(spec.sparsity_at(r), expected[r], 1e-15) << "round " << r;
  EXPECT_EQ(spec.first_pruning_round(), 2);
  EXPECT_FALSE(spec.zeros_pruned_in(2));
  EXPECT_TRUE(spec.zeros_pruned_in(3));
  EXPECT_EQ(share_weights_identity(spec), "bits=3,after=10,sparsity=0.8,prune_after=6,prune_steps=3");
  EXPECT_FALSE(spec.restart_lr);
  const auto restart = parse_share_weights("bits=3,after=10,sparsity=0.8,prune_after=6,prune_steps=3,restart_lr=1", 12);
  EXPECT_TRUE(restart.value().restart_lr);
  EXPECT_EQ(share_weights_identity(restart.value()),
            "bits=3,after=10,sparsity=0.8,prune_after=6,prune_steps=3,restart_lr=1");
  EXPECT_EQ(share_weights_identity(parse_share_weights("sparsity=0.8,restart_lr=0", 12).value()),
            "bits=4,after=6,sparsity=0.8,prune_after=3,prune_steps=1") << "restart_lr=0 is the default";
}

TEST(ShareWeightsSpec, DefaultsPruneOnceAtHalfOfTheSharingRoundAndWithoutSparsityNever) {
  const auto once = parse_share_weights("sparsity=0.5", 20).value();
  EXPECT_EQ(once.after, 10);
  EXPECT_EQ(once.prune_after, 5);
  EXPECT_EQ(once.sparsity_at(5), 0.5);
  EXPECT_EQ(once.first_pruning_round(), 5);
  const auto plain = parse_share_weights("on", 20).value();
  for (int64_t r = 0; r <= 20; ++r) EXPECT_EQ(plain.sparsity_at(r), 0) << r;
  EXPECT_FALSE(plain.zeros_pruned_in(20));
  EXPECT_EQ(share_weights_identity(plain), "bits=4,after=10") << "unchanged for runs without pruning";
}

}  // namespace
}  // namespace xfed::coordinator
