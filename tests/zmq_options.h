// ZmqOptions for the edge transport's tests: loopback, a fast heartbeat (100 ms) and a
// liveness in heartbeats that each test picks (how long silence may last before a loss).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "transport/zmq/zmq_transport.h"

namespace xfed::transport {

inline ZmqOptions test_coordinator_options(const CurveKeyPair& server, std::vector<std::string> authorized,
                                           int liveness, std::string endpoint = "tcp://127.0.0.1:*") {
  ZmqOptions o;
  o.endpoint = std::move(endpoint);
  o.keys = server;
  o.authorized = std::move(authorized);
  o.heartbeat = std::chrono::milliseconds(100);
  o.liveness = liveness;
  return o;
}

inline ZmqOptions test_worker_options(const std::string& endpoint, const CurveKeyPair& server,
                                      const CurveKeyPair& keys, int liveness) {
  ZmqOptions o;
  o.endpoint = endpoint;
  o.keys = keys;
  o.server_public_key = server.public_key;
  o.heartbeat = std::chrono::milliseconds(100);
  o.liveness = liveness;
  o.connect_timeout = std::chrono::milliseconds(10000);
  return o;
}

}  // namespace xfed::transport
