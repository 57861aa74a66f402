#include "transport/zmq/zap_handler.h"

#include <zmq.h>

#include "core/log.h"
#include "transport/zmq/zmq_check.h"

namespace xfed::transport {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr int kPollMs = 100;  // how often the thread looks at its stop flag
constexpr size_t kMaxRequestFrames = 16;

// The frames of one multipart message (empty if the receive failed).
std::vector<std::string> receive_all(void* socket) {
  std::vector<std::string> frames;
  int more = 1;
  while (more) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (!zmq_check(zmq_msg_recv(&msg, socket, ZMQ_DONTWAIT), "zmq_msg_recv (ZAP)")) {
      zmq_msg_close(&msg);
      return {};
    }
    if (frames.size() < kMaxRequestFrames)
      frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    more = zmq_msg_more(&msg);
    zmq_msg_close(&msg);
  }
  return frames;
}

void send_all(void* socket, const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const int flags = i + 1 < frames.size() ? ZMQ_SNDMORE : 0;
    if (auto st = zmq_check(zmq_send(socket, frames[i].data(), frames[i].size(), flags), "zmq_send (ZAP reply)");
        !st) {
      log_warning("edge: " + st.message());
      return;
    }
  }
}

}  // namespace

Result<std::unique_ptr<ZapHandler>> ZapHandler::start(void* context, const std::vector<std::string>& allowed_keys) {
  void* socket = zmq_socket(context, ZMQ_REP);
  if (!socket) return zmq_check(-1, "zmq_socket (ZAP handler)");
  const int linger = 0;
  auto st = zmq_check(zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger), "zmq_setsockopt ZMQ_LINGER");
  if (st) st = zmq_check(zmq_bind(socket, kZapEndpoint), std::string("zmq_bind ") + kZapEndpoint);
  if (!st) {
    zmq_close(socket);
    return st;
  }
  return std::unique_ptr<ZapHandler>(
      new ZapHandler(socket, std::set<std::string>(allowed_keys.begin(), allowed_keys.end())));
}

ZapHandler::ZapHandler(void* socket, std::set<std::string> allowed)
    : socket_(socket), allowed_(std::move(allowed)), thread_([this] { serve(); }) {}

ZapHandler::~ZapHandler() {
  stop_ = true;
  thread_.join();
  zmq_close(socket_);
}

std::string ZapHandler::last_refusal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_refusal_;
}

// Request frames (RFC 27): version, request id, domain, address, routing id, mechanism,
// credentials (CURVE: the client's 32-byte public key).
ZapHandler::Verdict ZapHandler::judge(const std::vector<std::string>& r) {
  if (r.size() < 6 || r[0] != "1.0") return {"400", "malformed ZAP request", ""};
  const std::string& address = r[3];
  const std::string& mechanism = r[5];
  if (mechanism != "CURVE") return {"400", "CURVE required, got " + mechanism + " from " + address, ""};
  if (r.size() != 7 || r[6].size() != 32) return {"400", "malformed CURVE credentials from " + address, ""};
  char z85[41];
  if (!zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(r[6].data()), 32))
    return {"400", "unencodable key from " + address, ""};
  if (!allowed_.count(z85)) return {"400", "key " + std::string(z85) + " from " + address + " is not authorized", ""};
  return {"200", "OK", z85};
}

void ZapHandler::serve() {
  while (!stop_) {
    zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
    const int ready = zmq_poll(&item, 1, kPollMs);
    if (ready <= 0) continue;  // timeout, or interrupted: look at the flag again
    const auto request = receive_all(socket_);
    if (request.empty()) continue;
    const auto verdict = judge(request);
    if (verdict.code == "200") {
      ++accepted_;
    } else {
      ++refused_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_refusal_ = verdict.text;
      }
      log_warning("edge: refused a connection: " + verdict.text);
    }
    const std::string id = request.size() > 1 ? request[1] : "";
    send_all(socket_, {"1.0", id, verdict.code, verdict.text, verdict.user_id, ""});
  }
}

}  // namespace xfed::transport
