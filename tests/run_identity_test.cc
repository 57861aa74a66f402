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

TEST(RunIdentity, AnOtherValueEndingInEqualsStarStandsForAnyValueWithItsPrefix) {
  const std::string coordinator = "--model=torchscript sha256=ab12\n--lr=0.1\n";
  EXPECT_FALSE(first_difference(coordinator, "--model=torchscript sha256=*\n--lr=0.1\n"));
  const auto other_family = first_difference("--model=mlp\n", "--model=torchscript sha256=*\n");
  ASSERT_TRUE(other_family);
  EXPECT_EQ(other_family->other_value, "torchscript sha256=*");
  EXPECT_TRUE(first_difference("--model=torchscript sha256=ab12\n", "--model=torchscript sha256=ab13\n"));
  EXPECT_TRUE(first_difference("--model=torchscript sha256=*\n", "--model=torchscript sha256=ab12\n"))
      << "only the other identity's value is a pattern";
  EXPECT_TRUE(first_difference("--data-dir=/data/a\n", "--data-dir=/data/*\n")) << "no '=' before the '*'";
  EXPECT_TRUE(first_difference("--model=x\n", "--model=*\n")) << "the prefix must end in '='";
}

TEST(RunIdentity, WithoutKeyDropsThatLineOnly) {
  EXPECT_EQ(without_key("xfed=0.2.0\n--lr=0.1\n--prune=di:every=2\n", "xfed"), "--lr=0.1\n--prune=di:every=2\n");
  EXPECT_EQ(without_key("--lr=0.1\n", "xfed"), "--lr=0.1\n") << "an identity without it (an older checkpoint)";
  EXPECT_FALSE(first_difference(without_key("xfed=0.1.0\n--lr=1\n", "xfed"), without_key("--lr=1\n", "xfed")));
}

}  // namespace
}  // namespace xfed
