// The ZeroMQ transport beyond the common contract (transport_conformance_test.cc): a worker
// is its key wherever it connects from, frames a worker sends while its coordinator is down
// reach the restarted coordinator, and strangers never get a rank.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "transport/zmq/zmq_transport.h"

namespace xfed::transport {
namespace {

using namespace std::chrono_literals;

struct Fleet {
  CurveKeyPair server = generate_curve_key_pair().value();
  CurveKeyPair worker = generate_curve_key_pair().value();

  ZmqOptions coordinator(const std::string& endpoint) const {
    ZmqOptions o;
    o.endpoint = endpoint;
    o.keys = server;
    o.authorized = {worker.public_key};
    o.heartbeat = 100ms;
    o.liveness = 5;
    return o;
  }
  ZmqOptions worker_at(const std::string& endpoint, const CurveKeyPair& keys) const {
    ZmqOptions o;
    o.endpoint = endpoint;
    o.keys = keys;
    o.server_public_key = server.public_key;
    o.heartbeat = 100ms;
    o.liveness = 5;
    o.connect_timeout = 10000ms;
    return o;
  }
};

TEST(ZmqTransport, AWorkerOutlivesItsCoordinatorAndReachesTheRestartedOne) {
  Fleet fleet;
  auto first = make_zmq_coordinator_transport(fleet.coordinator("tcp://127.0.0.1:*"));
  ASSERT_TRUE(first.is_ok()) << first.message();
  const std::string endpoint = first.value()->endpoint();
  auto worker = make_zmq_worker_transport(fleet.worker_at(endpoint, fleet.worker));
  ASSERT_TRUE(worker.is_ok()) << worker.message();
  EXPECT_EQ(worker.value()->rank(), 1);
  EXPECT_EQ(worker.value()->world_size(), 2);
  first.value().reset();  // the coordinator is gone
  ASSERT_TRUE(worker.value()->send(0, Bytes{4, 2}));
  auto second = make_zmq_coordinator_transport(fleet.coordinator(endpoint));
  ASSERT_TRUE(second.is_ok()) << second.message();
  ASSERT_TRUE(second.value()->wait_for_workers(10000ms));
  const auto got = second.value()->recv({1, 10000ms});
  ASSERT_TRUE(got.ok()) << got.status.message();
  EXPECT_EQ(got.message.bytes, (Bytes{4, 2}));
  ASSERT_TRUE(second.value()->send(1, Bytes{9}));
  Received back;
  do back = worker.value()->recv({0, 10000ms});  // skip the report that the first one went silent
  while (back.kind == Received::Kind::kError && back.message.source == 0 && back.status.message().find("gone") != std::string::npos);
  ASSERT_TRUE(back.ok()) << back.status.message();
  EXPECT_EQ(back.message.bytes, Bytes{9});
  worker.value().reset();  // a worker leaves before its coordinator, as after a shutdown
}

TEST(ZmqTransport, AStrangerIsNeverWelcomedAndTheTimeoutSaysWhy) {
  Fleet fleet;
  auto coordinator = make_zmq_coordinator_transport(fleet.coordinator("tcp://127.0.0.1:*"));
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto options = fleet.worker_at(coordinator.value()->endpoint(), generate_curve_key_pair().value());
  options.connect_timeout = 1000ms;
  const auto stranger = make_zmq_worker_transport(options);
  ASSERT_FALSE(stranger.is_ok());
  EXPECT_EQ(stranger.code(), StatusCode::kTimeout);
  EXPECT_NE(stranger.message().find("is this worker's key on its list?"), std::string::npos) << stranger.message();
  EXPECT_FALSE(coordinator.value()->wait_for_workers(200ms)) << "nobody joined";
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
