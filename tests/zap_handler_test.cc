// The coordinator's ZAP handler over real CURVE sockets on loopback: an authorized key gets
// in and its messages carry the key as User-Id; an unknown key, a plaintext client and a
// malformed request are refused (fail closed), each refusal counted and named.
#include <gtest/gtest.h>
#include <zmq.h>

#include <chrono>
#include <string>
#include <thread>

#include "transport/zmq/curve_keys.h"
#include "transport/zmq/zap_handler.h"

namespace xfed::transport {
namespace {

using namespace std::chrono_literals;

void set_int(void* s, int option, int value) { ASSERT_EQ(zmq_setsockopt(s, option, &value, sizeof value), 0); }
void set_text(void* s, int option, const std::string& value) {
  ASSERT_EQ(zmq_setsockopt(s, option, value.data(), value.size()), 0) << zmq_strerror(zmq_errno());
}

// A CURVE server (ROUTER on 127.0.0.1, a free port) with its handler, and clients to try it.
class Zap : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = zmq_ctx_new();
    server_keys_ = generate_curve_key_pair().value();
    allowed_ = generate_curve_key_pair().value();
    auto handler = ZapHandler::start(context_, {allowed_.public_key});
    ASSERT_TRUE(handler) << handler.message();
    handler_ = std::move(handler).value();
    server_ = zmq_socket(context_, ZMQ_ROUTER);
    set_int(server_, ZMQ_LINGER, 0);
    set_int(server_, ZMQ_CURVE_SERVER, 1);
    set_text(server_, ZMQ_CURVE_SECRETKEY, server_keys_.secret_key);
    set_text(server_, ZMQ_ZAP_DOMAIN, "xfed");
    set_int(server_, ZMQ_RCVTIMEO, 100);
    ASSERT_EQ(zmq_bind(server_, "tcp://127.0.0.1:*"), 0);
    char endpoint[256];
    size_t size = sizeof endpoint;
    ASSERT_EQ(zmq_getsockopt(server_, ZMQ_LAST_ENDPOINT, endpoint, &size), 0);
    endpoint_ = endpoint;
  }
  void TearDown() override {
    for (void* c : clients_) zmq_close(c);
    if (server_) zmq_close(server_);
    handler_.reset();
    zmq_ctx_term(context_);
  }
  // A DEALER that sends "hello": with `keys` over CURVE, or in plaintext when null.
  void client_says_hello(const CurveKeyPair* keys) {
    void* c = zmq_socket(context_, ZMQ_DEALER);
    clients_.push_back(c);
    set_int(c, ZMQ_LINGER, 0);
    if (keys) {
      set_text(c, ZMQ_CURVE_SERVERKEY, server_keys_.public_key);
      set_text(c, ZMQ_CURVE_PUBLICKEY, keys->public_key);
      set_text(c, ZMQ_CURVE_SECRETKEY, keys->secret_key);
    }
    ASSERT_EQ(zmq_connect(c, endpoint_.c_str()), 0);
    ASSERT_EQ(zmq_send(c, "hello", 5, ZMQ_DONTWAIT), 5);
  }
  // The User-Id of the next "hello" at the server within `wait`, or "" if none came.
  std::string next_hello_user(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq_msg_t id, body;
      zmq_msg_init(&id);
      if (zmq_msg_recv(&id, server_, 0) < 0) {  // 100 ms receive timeout
        zmq_msg_close(&id);
        continue;
      }
      zmq_msg_init(&body);
      EXPECT_GE(zmq_msg_recv(&body, server_, 0), 0);
      const char* user = zmq_msg_gets(&body, "User-Id");
      std::string out = user ? user : "(none)";
      zmq_msg_close(&id);
      zmq_msg_close(&body);
      return out;
    }
    return "";
  }
  void wait_for_refusals(int64_t n) {
    for (int i = 0; i < 300 && handler_->refused() < n; ++i) std::this_thread::sleep_for(10ms);
  }

  void* context_ = nullptr;
  void* server_ = nullptr;
  std::vector<void*> clients_;
  std::string endpoint_;
  CurveKeyPair server_keys_, allowed_;
  std::unique_ptr<ZapHandler> handler_;
};

TEST_F(Zap, AnAuthorizedKeyGetsInAndIsTheUserId) {
  client_says_hello(&allowed_);
  EXPECT_EQ(next_hello_user(5000ms), allowed_.public_key);
  EXPECT_EQ(handler_->accepted(), 1);
  EXPECT_EQ(handler_->refused(), 0);
}

TEST_F(Zap, AnUnknownKeyIsRefusedNamedAndNeverHeard) {
  const auto stranger = generate_curve_key_pair().value();
  client_says_hello(&stranger);
  wait_for_refusals(1);
  EXPECT_EQ(handler_->refused(), 1);
  const auto why = handler_->last_refusal();
  EXPECT_NE(why.find("key " + stranger.public_key + " from 127.0.0.1 is not authorized"), std::string::npos) << why;
  EXPECT_EQ(next_hello_user(500ms), "") << "nothing from a refused client reaches the server";
  client_says_hello(&allowed_);  // the server still serves the others
  EXPECT_EQ(next_hello_user(5000ms), allowed_.public_key);
}

TEST_F(Zap, APlaintextClientIsNeverHeard) {
  client_says_hello(nullptr);
  EXPECT_EQ(next_hello_user(500ms), "");
  EXPECT_EQ(handler_->accepted(), 0);
}

// Why the handler exists: without one, libzmq lets any CURVE key in.
TEST(ZapWhy, WithoutAHandlerAnyKeyGetsIn) {
  void* context = zmq_ctx_new();
  const auto server = generate_curve_key_pair().value(), anyone = generate_curve_key_pair().value();
  void* s = zmq_socket(context, ZMQ_ROUTER);
  void* c = zmq_socket(context, ZMQ_DEALER);
  set_int(s, ZMQ_LINGER, 0);
  set_int(c, ZMQ_LINGER, 0);
  set_int(s, ZMQ_CURVE_SERVER, 1);
  set_text(s, ZMQ_CURVE_SECRETKEY, server.secret_key);
  set_int(s, ZMQ_RCVTIMEO, 5000);
  ASSERT_EQ(zmq_bind(s, "tcp://127.0.0.1:*"), 0);
  char endpoint[256];
  size_t size = sizeof endpoint;
  ASSERT_EQ(zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &size), 0);
  set_text(c, ZMQ_CURVE_SERVERKEY, server.public_key);
  set_text(c, ZMQ_CURVE_PUBLICKEY, anyone.public_key);
  set_text(c, ZMQ_CURVE_SECRETKEY, anyone.secret_key);
  ASSERT_EQ(zmq_connect(c, endpoint), 0);
  ASSERT_EQ(zmq_send(c, "hello", 5, 0), 5);
  char buf[64];
  EXPECT_GE(zmq_recv(s, buf, sizeof buf, 0), 0) << "routing id";
  EXPECT_EQ(zmq_recv(s, buf, sizeof buf, 0), 5) << "a stranger's hello";
  zmq_close(c);
  zmq_close(s);
  zmq_ctx_term(context);
}

// Requests that do not come from libzmq's CURVE handshake get 400, never 200.
TEST_F(Zap, MalformedRequestsAreRefused) {
  void* req = zmq_socket(context_, ZMQ_REQ);
  clients_.push_back(req);
  set_int(req, ZMQ_LINGER, 0);
  set_int(req, ZMQ_RCVTIMEO, 5000);
  ASSERT_EQ(zmq_connect(req, "inproc://zeromq.zap.01"), 0);
  const auto ask = [&](const std::vector<std::string>& frames) {
    for (size_t i = 0; i < frames.size(); ++i)
      EXPECT_GE(zmq_send(req, frames[i].data(), frames[i].size(), i + 1 < frames.size() ? ZMQ_SNDMORE : 0), 0);
    std::vector<std::string> reply;
    int more = 1;
    while (more) {
      char buf[512];
      const int n = zmq_recv(req, buf, sizeof buf, 0);
      if (n < 0) return std::string("(no reply)");
      reply.emplace_back(buf, std::min<size_t>(n, sizeof buf));
      size_t size = sizeof more;
      zmq_getsockopt(req, ZMQ_RCVMORE, &more, &size);
    }
    return reply.size() >= 3 ? reply[2] : std::string("(short reply)");
  };
  EXPECT_EQ(ask({"1.0", "1", "xfed", "10.0.0.9", "", "CURVE"}), "400") << "no credentials";
  EXPECT_EQ(ask({"1.0", "2", "xfed", "10.0.0.9", "", "CURVE", "short"}), "400");
  EXPECT_EQ(ask({"1.0", "3", "xfed", "10.0.0.9", "", "NULL"}), "400");
  EXPECT_EQ(ask({"0.9", "4"}), "400");
  std::string raw(32, '\0');
  zmq_z85_decode(reinterpret_cast<uint8_t*>(raw.data()), allowed_.public_key.c_str());
  EXPECT_EQ(ask({"1.0", "5", "xfed", "10.0.0.9", "", "CURVE", raw}), "200") << "the list's own key";
}

}  // namespace
}  // namespace xfed::transport
