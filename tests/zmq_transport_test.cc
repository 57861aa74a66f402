// The ZeroMQ transport beyond the common contract (transport_conformance_test.cc): a worker
// is its key wherever it connects from and joins again when it comes back; a worker keeps
// its frames while its coordinator is away and gives up only after its reconnect timeout;
// strangers and refused introductions never get a rank, and are told why at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "tests/zmq_options.h"
#include "transport/zmq/zmq_transport.h"

namespace xfed::transport {
namespace {

using namespace std::chrono_literals;

struct Fleet {
  CurveKeyPair server = generate_curve_key_pair().value();
  CurveKeyPair worker = generate_curve_key_pair().value();

  ZmqOptions coordinator(const std::string& endpoint) const {
    return test_coordinator_options(server, {worker.public_key}, 5, endpoint);
  }
  ZmqOptions worker_at(const std::string& endpoint, const CurveKeyPair& keys) const {
    return test_worker_options(endpoint, server, keys, 5);
  }
};

TEST(ZmqTransport, AWorkerOutlivesItsCoordinatorAndIsAdmittedByTheRestartedOne) {
  Fleet fleet;
  auto first = make_zmq_coordinator_transport(fleet.coordinator("tcp://127.0.0.1:*"));
  ASSERT_TRUE(first.is_ok()) << first.message();
  const std::string endpoint = first.value()->endpoint();
  auto worker = make_zmq_worker_transport(fleet.worker_at(endpoint, fleet.worker));
  ASSERT_TRUE(worker.is_ok()) << worker.message();
  EXPECT_EQ(worker.value()->rank(), 1);
  EXPECT_EQ(worker.value()->world_size(), 2);
  EXPECT_EQ(first.value()->joins(1), 1u);
  first.value().reset();  // the coordinator is gone
  std::this_thread::sleep_for(800ms);  // past the liveness: the worker notices, keeps its frames
  ASSERT_TRUE(worker.value()->send(0, Bytes{4, 2}));
  auto second = make_zmq_coordinator_transport(fleet.coordinator(endpoint));
  ASSERT_TRUE(second.is_ok()) << second.message();
  ASSERT_TRUE(second.value()->wait_for_workers(10000ms));
  EXPECT_EQ(second.value()->joins(1), 1u);
  const auto got = second.value()->recv({1, 10000ms});
  ASSERT_TRUE(got.ok()) << got.status.message();
  EXPECT_EQ(got.message.bytes, (Bytes{4, 2})) << "a frame sent while the coordinator was away arrives once admitted";
  ASSERT_TRUE(second.value()->send(1, Bytes{9}));
  const auto back = worker.value()->recv({0, 10000ms});
  ASSERT_TRUE(back.ok()) << "the worker never reports a coordinator that came back: " << back.status.message();
  EXPECT_EQ(back.message.bytes, Bytes{9});
  worker.value().reset();  // a worker leaves before its coordinator, as after a shutdown
}

TEST(ZmqTransport, AWorkerThatComesBackJoinsAgainAndItsLossIsWithdrawn) {
  Fleet fleet;
  auto coordinator = make_zmq_coordinator_transport(fleet.coordinator("tcp://127.0.0.1:*"));
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto& co = *coordinator.value();
  {
    auto worker = make_zmq_worker_transport(fleet.worker_at(co.endpoint(), fleet.worker));
    ASSERT_TRUE(worker.is_ok()) << worker.message();
  }  // gone without a word
  const auto lost = co.recv({kAnySource, 5000ms});
  ASSERT_EQ(lost.kind, Received::Kind::kError);
  EXPECT_EQ(lost.message.source, 1);
  EXPECT_FALSE(co.send(1, Bytes{1}).is_ok()) << "sends to a lost worker fail";
  auto again = make_zmq_worker_transport(fleet.worker_at(co.endpoint(), fleet.worker));
  ASSERT_TRUE(again.is_ok()) << again.message();
  EXPECT_EQ(again.value()->rank(), 1) << "the same key is the same rank";
  EXPECT_EQ(co.joins(1), 2u);
  ASSERT_TRUE(co.send(1, Bytes{7}));
  const auto got = again.value()->recv({0, 5000ms});
  ASSERT_TRUE(got.ok()) << got.status.message();
  EXPECT_EQ(got.message.bytes, Bytes{7});
  // Gone and back before the coordinator read the loss: the report is withdrawn.
  again.value().reset();
  std::this_thread::sleep_for(800ms);
  auto third = make_zmq_worker_transport(fleet.worker_at(co.endpoint(), fleet.worker));
  ASSERT_TRUE(third.is_ok()) << third.message();
  EXPECT_EQ(co.joins(1), 3u);
  ASSERT_TRUE(third.value()->send(0, Bytes{3}));
  const auto next = co.recv({kAnySource, 5000ms});
  ASSERT_TRUE(next.ok()) << "no stale loss report: " << next.status.message();
  EXPECT_EQ(next.message.bytes, Bytes{3});
}

TEST(ZmqTransport, AnIntroductionTheCoordinatorRefusesIsAUsageErrorWithTheReason) {
  Fleet fleet;
  auto options = fleet.coordinator("tcp://127.0.0.1:*");
  options.admit = [](int rank, const Bytes& introduction) -> std::string {
    return introduction == Bytes{1} ? "" : "worker " + std::to_string(rank) + " brought the wrong thing";
  };
  auto coordinator = make_zmq_coordinator_transport(options);
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto wrong = fleet.worker_at(coordinator.value()->endpoint(), fleet.worker);
  wrong.introduction = {2};
  const auto refused = make_zmq_worker_transport(wrong);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.code(), StatusCode::kUsage);
  EXPECT_NE(refused.message().find("worker 1 brought the wrong thing"), std::string::npos) << refused.message();
  EXPECT_EQ(coordinator.value()->joins(1), 0u) << "a refused worker never joined";
  auto right = wrong;
  right.introduction = {1};
  const auto admitted = make_zmq_worker_transport(right);
  ASSERT_TRUE(admitted.is_ok()) << admitted.message();
  EXPECT_EQ(coordinator.value()->joins(1), 1u);
}

TEST(ZmqTransport, AStrangerIsRefusedAtOnceAndNeverJoins) {
  Fleet fleet;
  auto coordinator = make_zmq_coordinator_transport(fleet.coordinator("tcp://127.0.0.1:*"));
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto options = fleet.worker_at(coordinator.value()->endpoint(), generate_curve_key_pair().value());
  options.connect_timeout = 20000ms;
  const auto start = std::chrono::steady_clock::now();
  const auto stranger = make_zmq_worker_transport(options);
  ASSERT_FALSE(stranger.is_ok());
  EXPECT_EQ(stranger.code(), StatusCode::kUsage) << stranger.message();
  EXPECT_NE(stranger.message().find("does not accept this worker's key " + options.keys.public_key), std::string::npos)
      << stranger.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10000ms) << "the refusal is known at the handshake";
  EXPECT_EQ(coordinator.value()->joins(1), 0u);
  EXPECT_FALSE(coordinator.value()->wait_for_workers(200ms)) << "nobody joined";
}

TEST(ZmqTransport, AnUnreachableCoordinatorIsATimeoutThatSaysWhere) {
  Fleet fleet;
  auto options = fleet.worker_at("tcp://127.0.0.1:1", fleet.worker);  // nothing listens on port 1
  options.connect_timeout = 500ms;
  const auto none = make_zmq_worker_transport(options);
  ASSERT_FALSE(none.is_ok());
  EXPECT_EQ(none.code(), StatusCode::kTimeout);
  EXPECT_NE(none.message().find("no welcome from the coordinator at tcp://127.0.0.1:1 within 500 ms"), std::string::npos)
      << none.message();
}

TEST(ZmqTransport, AWorkerGivesUpOnASilentCoordinatorAfterItsReconnectTimeout) {
  Fleet fleet;
  auto coordinator = make_zmq_coordinator_transport(fleet.coordinator("tcp://127.0.0.1:*"));
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto options = fleet.worker_at(coordinator.value()->endpoint(), fleet.worker);
  options.reconnect_timeout = 300ms;
  auto worker = make_zmq_worker_transport(options);
  ASSERT_TRUE(worker.is_ok()) << worker.message();
  coordinator.value().reset();
  const auto start = std::chrono::steady_clock::now();
  const auto gone = worker.value()->recv({0, 10000ms});
  ASSERT_EQ(gone.kind, Received::Kind::kError) << "bounded: the worker does not wait forever";
  EXPECT_EQ(gone.status.code(), StatusCode::kPeerLost);
  EXPECT_NE(gone.status.message().find("did not answer for 300 ms; giving up"), std::string::npos) << gone.status.message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
}

// A receiver holds its acknowledgements while more than 16 MiB wait for its application;
// a sender that closes meanwhile waits for it to read, however long past the liveness,
// as long as it is alive (before: it gave up after the liveness and the rest was lost).
TEST(ZmqTransport, ClosingWaitsForALiveReceiverThatReadsLate) {
  Fleet fleet;
  auto coordinator = make_zmq_coordinator_transport(fleet.coordinator("tcp://127.0.0.1:*"));
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto worker = make_zmq_worker_transport(fleet.worker_at(coordinator.value()->endpoint(), fleet.worker));
  ASSERT_TRUE(worker.is_ok()) << worker.message();
  constexpr int kFrames = 48;  // 48 MiB: more than the receiver takes (16 MiB) plus a window before it reads
  for (int i = 0; i < kFrames; ++i) ASSERT_TRUE(worker.value()->send(0, Bytes(1 << 20, static_cast<uint8_t>(i))));
  std::thread closing([&] { worker.value().reset(); });
  std::this_thread::sleep_for(1500ms);  // three times the liveness (5 x 100 ms) without a read
  int arrived = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (arrived < kFrames && std::chrono::steady_clock::now() < deadline) {
    const auto got = coordinator.value()->recv({kAnySource, 1000ms});
    if (!got.ok()) continue;
    ASSERT_EQ(got.message.bytes, Bytes(1 << 20, static_cast<uint8_t>(arrived))) << "frame " << arrived;
    ++arrived;
  }
  closing.join();
  EXPECT_EQ(arrived, kFrames) << "the closing worker gave up on a live coordinator";
}

TEST(ZmqTransport, InsecureModeWorksPlaintextAndAWorkerIsTheKeyItClaims) {
  Fleet fleet;
  auto co = fleet.coordinator("tcp://127.0.0.1:*");
  co.insecure = true;
  auto coordinator = make_zmq_coordinator_transport(co);
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto wo = fleet.worker_at(coordinator.value()->endpoint(), fleet.worker);
  wo.insecure = true;
  auto worker = make_zmq_worker_transport(wo);
  ASSERT_TRUE(worker.is_ok()) << worker.message();
  ASSERT_TRUE(worker.value()->send(0, Bytes{5}));
  const auto got = coordinator.value()->recv({1, 5000ms});
  ASSERT_TRUE(got.ok()) << got.status.message();
  EXPECT_EQ(got.message.bytes, Bytes{5});
  auto stranger = fleet.worker_at(coordinator.value()->endpoint(), generate_curve_key_pair().value());
  stranger.insecure = true;
  const auto refused = make_zmq_worker_transport(stranger);
  EXPECT_EQ(refused.code(), StatusCode::kUsage) << refused.message();
  EXPECT_NE(refused.message().find("is not on the coordinator's authorized list"), std::string::npos) << refused.message();
}

TEST(ZmqTransport, AMessageAboveTheCapIsNeverReadAndLaterOnesStillArrive) {
  Fleet fleet;
  auto options = fleet.coordinator("tcp://127.0.0.1:*");
  options.max_frame_bytes = 100000;  // the frame is dropped, loudly; the connection stays
  auto coordinator = make_zmq_coordinator_transport(options);
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto worker = make_zmq_worker_transport(fleet.worker_at(coordinator.value()->endpoint(), fleet.worker));
  ASSERT_TRUE(worker.is_ok()) << worker.message();
  ASSERT_TRUE(worker.value()->send(0, Bytes(200000, 1)));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(worker.value()->send(0, Bytes{1, 2, 3}));
  Received got;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do got = coordinator.value()->recv({kAnySource, 1000ms});
  while (!got.ok() && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(got.ok()) << got.status.message();
  EXPECT_EQ(got.message.bytes, (Bytes{1, 2, 3})) << "the oversized frame never arrives";
}

TEST(ZmqTransport, AnEmptyAllowListAndABusyPortAreErrors) {
  Fleet fleet;
  auto options = fleet.coordinator("tcp://127.0.0.1:*");
  options.authorized.clear();
  EXPECT_EQ(make_zmq_coordinator_transport(options).code(), StatusCode::kUsage);
  auto first = make_zmq_coordinator_transport(fleet.coordinator("tcp://127.0.0.1:*"));
  ASSERT_TRUE(first.is_ok()) << first.message();
  const auto busy = make_zmq_coordinator_transport(fleet.coordinator(first.value()->endpoint()));
  ASSERT_FALSE(busy.is_ok());
  EXPECT_NE(busy.message().find("zmq_bind " + first.value()->endpoint()), std::string::npos) << busy.message();
  EXPECT_NE(busy.message().find("in use"), std::string::npos) << busy.message();
}

}  // namespace
}  // namespace xfed::transport
