#include <gtest/gtest.h>

#include "core/run_identity.h"

namespace xfed {
namespace {

TEST(RunIdentity, SameIdentitiesHaveNoDifference) {
  EXPECT_FALSE(first_difference("--a=1\n--b=x\n", "--a=1\n--b=x\n"));
  EXPECT_FALSE(first_difference("", ""));
}

TEST(RunIdentity, TheFirstDifferingKeyInTheReferencesOrderIsNamed) {
  const auto d = first_difference("--a=1\n--b=x\n--c=3\n", "--c=4\n--b=y\n--a=1\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key, "--b");
  EXPECT_EQ(d->reference_value, "x");
  EXPECT_EQ(d->other_value, "y");
}

TEST(RunIdentity, AKeyOnlyOneSideHasIsADifferenceEitherWay) {
  auto d = first_difference("--a=1\ntransport=mpi, 3 ranks\n", "--a=1\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key, "transport");
  EXPECT_EQ(d->other_value, "(not recorded)");
  d = first_difference("--a=1\n", "--a=1\ntransport=mpi, 3 ranks\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key, "transport");
  EXPECT_EQ(d->reference_value, "(not recorded)");
  EXPECT_EQ(d->other_value, "mpi, 3 ranks");
}

TEST(RunIdentity, ValuesMayHoldEqualsSigns) {
  const auto d = first_difference("--prune=di:every=2\n", "--prune=di:every=3\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reference_value, "di:every=2");
}

TEST(RunIdentity, WithoutKeyDropsThatLineOnly) {
  EXPECT_EQ(without_key("xfed=0.2.0\n--lr=0.1\n--prune=di:every=2\n", "xfed"), "--lr=0.1\n--prune=di:every=2\n");
  EXPECT_EQ(without_key("--lr=0.1\n", "xfed"), "--lr=0.1\n") << "an identity without it (an older checkpoint)";
  EXPECT_FALSE(first_difference(without_key("xfed=0.1.0\n--lr=1\n", "xfed"), without_key("--lr=1\n", "xfed")));
}

}  // namespace
}  // namespace xfed
