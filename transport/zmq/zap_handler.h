// ZapHandler: the coordinator's ZAP handler (ZeroMQ Authentication Protocol, RFC 27), which
// makes the CURVE allow-list fail closed. libzmq admits any CURVE client key when no handler
// is bound, so the coordinator starts this one, in the context of its socket, before it
// binds. For each connection libzmq asks: the handler answers 200 (user id = the client's
// public key in Z85, which every message from it then carries as "User-Id") only for a key
// on the list; anything else — another key, another mechanism (NULL, PLAIN), a malformed
// request — gets 400, and each refusal is logged with the key and the address.
// One thread; stopped (and joined) by the destructor.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace xfed::transport {

class ZapHandler {
 public:
  // `context`: the zmq context of the server socket (inproc needs the same one).
  static Result<std::unique_ptr<ZapHandler>> start(void* context, const std::vector<std::string>& allowed_keys);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  int64_t accepted() const { return accepted_; }
  int64_t refused() const { return refused_; }
  std::string last_refusal() const;

 private:
  ZapHandler(void* socket, std::set<std::string> allowed);
  void serve();
  // The reply's (status code, status text, user id) for one request's frames.
  struct Verdict {
    std::string code, text, user_id;
  };
  Verdict judge(const std::vector<std::string>& request);

  void* socket_;
  const std::set<std::string> allowed_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> accepted_{0}, refused_{0};
  mutable std::mutex mu_;
  std::string last_refusal_;
  std::thread thread_;
};

}  // namespace xfed::transport
