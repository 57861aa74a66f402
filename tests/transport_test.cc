#include <gtest/gtest.h>

#include <chrono>

#include "tests/test_util.h"
#include "transport/inproc/inproc_transport.h"

namespace xfed::transport {
namespace {

using namespace std::chrono_literals;
using xfed::testing::spawn_ranks;

Bytes bytes_of(int a, int b) { return Bytes{static_cast<uint8_t>(a), static_cast<uint8_t>(b)}; }

class InProcWorld : public ::testing::TestWithParam<int> {};

// Every rank sends `kMessages` numbered messages to every other rank; each receiver checks
// that each sender's messages arrive complete and in order.
TEST_P(InProcWorld, AllToAllKeepsPerPairOrder) {
  const int world = GetParam();
  constexpr int kMessages = 50;
  auto hub = std::make_shared<InProcHub>(world);
  spawn_ranks(world, [&](int rank) {
    auto t = make_inproc_transport({hub, rank});
    ASSERT_EQ(t->world_size(), world);
    for (int i = 0; i < kMessages; ++i)
      for (int dest = 0; dest < world; ++dest)
        if (dest != rank) {
          ASSERT_TRUE(t->send(dest, bytes_of(rank, i)));
        }
    std::vector<int> next(world, 0);
    for (int n = 0; n < kMessages * (world - 1); ++n) {
      auto got = t->recv({kAnySource, 5000ms});
      ASSERT_TRUE(got.ok()) << got.status.message();
      const int src = got.message.bytes[0];
      ASSERT_EQ(src, got.message.source);
      ASSERT_EQ(got.message.bytes[1], next[src]++);
    }
  });
}

INSTANTIATE_TEST_SUITE_P(WorldSizes, InProcWorld, ::testing::Values(2, 3, 5, 8));

TEST(InProc, GonePeerIsReportedOnceAndSendsToItFail) {
  auto hub = std::make_shared<InProcHub>(3);
  auto t0 = make_inproc_transport({hub, 0});
  std::thread killer([&] {
    std::this_thread::sleep_for(20ms);
    hub->mark_gone(2);
  });
  auto got = t0->recv({kAnySource, 5000ms});  // blocked, woken by the loss
  killer.join();
  ASSERT_EQ(got.kind, Received::Kind::kError);
  EXPECT_EQ(got.message.source, 2);
  EXPECT_NE(got.status.message().find("worker 2 is gone"), std::string::npos);
  EXPECT_EQ(got.status.code(), StatusCode::kPeerLost);
  EXPECT_EQ(t0->recv({kAnySource, 20ms}).kind, Received::Kind::kTimeout) << "reported once";
  auto st = t0->send(2, bytes_of(0, 0));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), StatusCode::kPeerLost);
  EXPECT_NE(st.message().find("worker 2"), std::string::npos);
  EXPECT_FALSE(t0->send(7, bytes_of(0, 0)));
}

TEST(InProc, CloseWakesBlockedReceiversButDeliversQueuedMessagesFirst) {
  auto hub = std::make_shared<InProcHub>(2);
  auto t0 = make_inproc_transport({hub, 0}), t1 = make_inproc_transport({hub, 1});
  ASSERT_TRUE(t1->send(0, bytes_of(1, 9)));
  hub->close();
  EXPECT_TRUE(t0->recv({}).ok());
  const auto closed = t0->recv({});
  EXPECT_EQ(closed.kind, Received::Kind::kError);
  EXPECT_EQ(closed.status.code(), StatusCode::kPeerLost);
  EXPECT_EQ(t1->send(0, bytes_of(1, 0)).code(), StatusCode::kPeerLost);
}

}  // namespace
}  // namespace xfed::transport
