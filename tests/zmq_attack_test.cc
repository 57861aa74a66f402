// The edge transport against hostile peers and a crowded port: a peer that picks another
// worker's routing id gets none of that worker's frames; connections that never finish their
// handshake are closed and real workers still get in; a peer that is not read is held to its
// flow-control window (memory per peer bounded by the protocol, not by what it sends).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "transport/zmq/greeting.h"
#include "tests/zmq_options.h"
#include "transport/zmq/zmq_transport.h"

namespace xfed::transport {
namespace {

using namespace std::chrono_literals;

ZmqOptions coordinator_options(const CurveKeyPair& server, std::vector<std::string> authorized) {
  return test_coordinator_options(server, std::move(authorized), 10);
}

ZmqOptions worker_options(const std::string& endpoint, const CurveKeyPair& server, const CurveKeyPair& keys) {
  return test_worker_options(endpoint, server, keys, 10);
}

int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

// A raw DEALER with an authorized key that sets its routing id itself and says hello.
class Impostor {
 public:
  Impostor(const std::string& endpoint, const CurveKeyPair& server, const CurveKeyPair& keys,
           const std::string& routing_id) {
    context_ = zmq_ctx_new();
    socket_ = zmq_socket(context_, ZMQ_DEALER);
    const int zero = 0;
    zmq_setsockopt(socket_, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(socket_, ZMQ_ROUTING_ID, routing_id.data(), routing_id.size());
    zmq_setsockopt(socket_, ZMQ_CURVE_SERVERKEY, server.public_key.data(), server.public_key.size());
    zmq_setsockopt(socket_, ZMQ_CURVE_PUBLICKEY, keys.public_key.data(), keys.public_key.size());
    zmq_setsockopt(socket_, ZMQ_CURVE_SECRETKEY, keys.secret_key.data(), keys.secret_key.size());
    zmq_connect(socket_, endpoint.c_str());
    const uint8_t hello = 2;  // Wire::kHello
    const Bytes payload = encode_hello({keys.public_key, {}});
    zmq_send(socket_, &hello, 1, ZMQ_SNDMORE);
    zmq_send(socket_, payload.data(), payload.size(), 0);
  }
  ~Impostor() {
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  // The type bytes of every message that reaches it within `time`.
  std::vector<uint8_t> listen(std::chrono::milliseconds time) {
    std::vector<uint8_t> types;
    const auto deadline = std::chrono::steady_clock::now() + time;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq_msg_t part;
      zmq_msg_init(&part);
      if (zmq_msg_recv(&part, socket_, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_size(&part) == 1) types.push_back(*static_cast<uint8_t*>(zmq_msg_data(&part)));
      } else {
        std::this_thread::sleep_for(5ms);
      }
      zmq_msg_close(&part);
    }
    return types;
  }

 private:
  void* context_ = nullptr;
  void* socket_ = nullptr;
};

// An authorized worker that names its connection after another worker (the routing id an
// older xfed derived from the key, or any other) is admitted as itself, and the other
// worker keeps every frame meant for it and is never lost.
TEST(ZmqAttack, ARoutingIdNamingAnotherWorkerHijacksNothing) {
  const auto server = generate_curve_key_pair().value();
  const auto victim_keys = generate_curve_key_pair().value();
  const auto impostor_keys = generate_curve_key_pair().value();
  auto coordinator = make_zmq_coordinator_transport(
      coordinator_options(server, {victim_keys.public_key, impostor_keys.public_key}));
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto& c = *coordinator.value();
  auto victim = make_zmq_worker_transport(worker_options(c.endpoint(), server, victim_keys));
  ASSERT_TRUE(victim.is_ok()) << victim.message();
  const int rank = victim.value()->rank();
  for (const std::string& id : {"w" + victim_keys.public_key, "r" + victim_keys.public_key}) {
    Impostor impostor(c.endpoint(), server, impostor_keys, id);
    std::this_thread::sleep_for(300ms);  // its hello is in
    for (uint8_t i = 0; i < 10; ++i) ASSERT_TRUE(c.send(rank, Bytes{i, 42}));
    const auto types = impostor.listen(700ms);
    EXPECT_EQ(std::count(types.begin(), types.end(), 0), 0) << "a frame meant for worker " << rank << " reached the impostor";
    for (uint8_t i = 0; i < 10; ++i) {
      const auto got = victim.value()->recv({0, 5000ms});
      ASSERT_TRUE(got.ok()) << got.status.message();
      EXPECT_EQ(got.message.bytes, (Bytes{i, 42}));
    }
  }
  EXPECT_TRUE(c.send(rank, Bytes{1}).is_ok()) << "the victim was never lost";
  for (auto got = c.recv({kAnySource, 300ms}); got.kind != Received::Kind::kTimeout; got = c.recv({kAnySource, 300ms}))
    EXPECT_NE(got.message.source, rank) << "only the impostors, gone, may be reported: " << got.status.message();
}

// 200 TCP connections that never say a word: each is closed once the handshake timeout has
// passed, and a real worker gets in meanwhile.
TEST(ZmqAttack, SilentConnectionsAreClosedAndRealWorkersStillGetIn) {
  const auto server = generate_curve_key_pair().value();
  const auto keys = generate_curve_key_pair().value();
  auto o = coordinator_options(server, {keys.public_key});
  o.handshake_timeout = 500ms;
  auto coordinator = make_zmq_coordinator_transport(o);
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_of(coordinator.value()->endpoint())));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval wait{0, 100 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    idle.push_back(fd);
  }
  auto worker = make_zmq_worker_transport(worker_options(coordinator.value()->endpoint(), server, keys));
  ASSERT_TRUE(worker.is_ok()) << worker.message();
  ASSERT_TRUE(worker.value()->send(0, Bytes{9}));
  EXPECT_TRUE(coordinator.value()->recv({1, 5000ms}).ok());
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  size_t closed = 0;
  std::vector<bool> open(idle.size(), true);
  while (closed < idle.size() && std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < idle.size(); ++i) {
      if (!open[i]) continue;
      char buffer[256];
      const ssize_t n = recv(idle[i], buffer, sizeof buffer, MSG_DONTWAIT);  // its greeting, then the end
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        open[i] = false;
        ++closed;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  for (int fd : idle) close(fd);
  EXPECT_EQ(closed, idle.size()) << "connections that never handshook are closed";
}

// The coordinator does not read for a while: the worker's I/O goes on only as far as its
// window allows past the backlog limit, so what the coordinator took off the wire stays far
// below the 100 MiB sent; then every frame arrives, in order.
TEST(ZmqAttack, APeerThatIsNotReadIsHeldToItsWindow) {
  const auto server = generate_curve_key_pair().value();
  const auto keys = generate_curve_key_pair().value();
  auto coordinator = make_zmq_coordinator_transport(coordinator_options(server, {keys.public_key}));
  ASSERT_TRUE(coordinator.is_ok()) << coordinator.message();
  auto worker = make_zmq_worker_transport(worker_options(coordinator.value()->endpoint(), server, keys));
  ASSERT_TRUE(worker.is_ok()) << worker.message();
  constexpr int kFrames = 100;
  for (int i = 0; i < kFrames; ++i) ASSERT_TRUE(worker.value()->send(0, Bytes(size_t{1} << 20, static_cast<uint8_t>(i))));
  std::this_thread::sleep_for(1500ms);
  const auto taken = coordinator.value()->traffic().bytes_received;
  EXPECT_LT(taken, uint64_t{40} << 20) << "16 MiB of backlog, a window of 16 frames, and small change";
  for (int i = 0; i < kFrames; ++i) {
    const auto got = coordinator.value()->recv({1, 10000ms});
    ASSERT_TRUE(got.ok()) << "frame " << i << ": " << got.status.message();
    ASSERT_EQ(got.message.bytes.size(), size_t{1} << 20);
    EXPECT_EQ(got.message.bytes.front(), static_cast<uint8_t>(i));
  }
}

}  // namespace
}  // namespace xfed::transport
