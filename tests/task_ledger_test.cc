// TaskLedger (coordinator/task_ledger.h): which task a frame answers, from expectations
// written out by hand.
#include <gtest/gtest.h>

#include "coordinator/task_ledger.h"

namespace xfed::coordinator {
namespace {

using protocol::FrameKind;

TEST(TaskLedger, AFrameAnswersItsClientsTaskOfItsRoundOnThatRankOnly) {
  TaskLedger ledger;
  ledger.sent(7, {3, FrameKind::kUpdate, 1});
  ledger.sent(7, {4, FrameKind::kUpdate, 1});
  ledger.sent(7, {4, FrameKind::kStats, 1});
  ledger.sent(8, {4, FrameKind::kUpdate, 2});
  EXPECT_EQ(ledger.live(), 4u);
  EXPECT_FALSE(ledger.answer(7, 2, 4, FrameKind::kUpdate)) << "client 7's tasks went to rank 1";
  EXPECT_FALSE(ledger.answer(9, 1, 4, FrameKind::kUpdate)) << "no task for client 9 at all";
  const auto stats = ledger.answer(7, 1, 4, FrameKind::kStats);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->round, 4u);
  EXPECT_EQ(stats->expects, FrameKind::kStats);
  const auto failure = ledger.answer(7, 1, 3, FrameKind::kFailure);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->round, 3u) << "a failure answers the task of its round, whatever it expected";
  const auto wrong_kind = ledger.answer(7, 1, 4, FrameKind::kControl);
  ASSERT_TRUE(wrong_kind);
  EXPECT_EQ(wrong_kind->round, 4u) << "the round decides; the kind check is the caller's";
  EXPECT_FALSE(ledger.answer(7, 1, 4, FrameKind::kUpdate)) << "each task is answered once";
  EXPECT_EQ(ledger.live(), 1u);
}

TEST(TaskLedger, ARoundWithNoTaskIsTheOldestLiveTasksAnswer) {
  TaskLedger ledger;
  ledger.sent(5, {2, FrameKind::kUpdate, 1});
  ledger.sent(5, {3, FrameKind::kUpdate, 1});
  const auto odd = ledger.answer(5, 1, 99, FrameKind::kUpdate);
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->round, 2u);
  EXPECT_TRUE(odd->live);
  EXPECT_EQ(ledger.live(), 1u);
}

TEST(TaskLedger, TheTasksOfALostRankAreVoidAndTakeNoLiveTasksPlace) {
  TaskLedger ledger;
  ledger.sent(1, {3, FrameKind::kUpdate, 2});
  ledger.sent(2, {3, FrameKind::kUpdate, 1});
  ledger.void_rank(2);
  EXPECT_EQ(ledger.live(), 1u);
  ledger.sent(1, {5, FrameKind::kUpdate, 2});  // it came back and got a new task
  const auto held = ledger.answer(1, 2, 3, FrameKind::kUpdate);  // its answer of round 3, late
  ASSERT_TRUE(held);
  EXPECT_FALSE(held->live);
  const auto fresh = ledger.answer(1, 2, 5, FrameKind::kUpdate);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(fresh->live);
  EXPECT_FALSE(ledger.answer(1, 2, 77, FrameKind::kUpdate)) << "only void tasks left: nothing to answer";
}

TEST(TaskLedger, VoidTasksAreBoundedPerClient) {
  TaskLedger ledger;
  for (uint32_t r = 1; r <= 3 * TaskLedger::kMaxVoidPerClient; ++r) {
    ledger.sent(0, {r, FrameKind::kUpdate, 1});
    ledger.void_rank(1);
  }
  EXPECT_EQ(ledger.live(), 0u);
  EXPECT_FALSE(ledger.answer(0, 1, 1, FrameKind::kUpdate)) << "the oldest void tasks are forgotten";
  EXPECT_TRUE(ledger.answer(0, 1, 3 * TaskLedger::kMaxVoidPerClient, FrameKind::kUpdate));
}

}  // namespace
}  // namespace xfed::coordinator
