// ZeroMQ transport (edge devices): a coordinator process and worker processes over TCP,
// encrypted and authenticated with CURVE.
//
// - The coordinator binds a ROUTER; each worker connects a DEALER. A worker's identity is
//   its public key, never its address or socket: the coordinator's allow-list (its
//   authorized keys, sorted) gives key i the rank i + 1, so a worker that reconnects, from
//   anywhere, is the same rank. The ZAP handler (zap_handler.h) refuses every other key,
//   and a message without an authenticated user id is dropped.
// - A worker says hello until the coordinator welcomes it with its rank and the world size;
//   make_zmq_worker_transport returns once welcomed (bounded by `connect_timeout`).
// - One I/O thread per transport owns the socket (zmq sockets are not thread-safe): send
//   queues the frame for it, recv takes from what it received. Each wire message is one
//   zmq frame: a type byte (frame, heartbeat, hello, welcome), then the payload.
// - Heartbeats both ways every `heartbeat` of silence; a peer not heard from for
//   `liveness` heartbeats is lost: the coordinator reports the worker's rank once (as
//   kPeerLost to a kAnySource receiver), and sends to it fail until it is heard again.
// - Frames above 1 MiB travel in chunks (total, offset, CRC-32, bytes), one per turn of the
//   I/O loop and destination, so heartbeats pass between them and zmq's queues hold one
//   chunk, not a model; a chunk out of order or with a bad CRC drops its frame, loudly.
// - ZMQ_MAXMSGSIZE caps what a peer may send before it is read; ZMQ_ROUTER_MANDATORY makes a
//   send to a vanished worker an error, not a silent drop.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "transport/transport.h"
#include "transport/zmq/curve_keys.h"

namespace xfed::transport {

struct ZmqOptions {
  std::string endpoint;                  // coordinator: bind ("tcp://0.0.0.0:5555"); worker: connect
  CurveKeyPair keys;                     // this process's key pair
  std::string server_public_key;         // worker: the coordinator's public key
  std::vector<std::string> authorized;   // coordinator: the workers' public keys
  std::chrono::milliseconds heartbeat{1000};
  int liveness = 5;                      // heartbeats of silence before a peer is lost
  std::chrono::milliseconds connect_timeout{30000};
  int64_t max_message_bytes = (int64_t{1} << 30) + 64;
  // At close, how long frames still queued may take to leave (then they are dropped); none
  // when the peer is already known to be gone.
  std::chrono::milliseconds linger{2000};
};

class ZmqTransport : public Transport {
 public:
  // The endpoint actually bound (a "tcp://127.0.0.1:*" bind learns its port here).
  virtual std::string endpoint() const = 0;
  virtual void close() = 0;
  // Coordinator: waits until every authorized worker has connected (a send to a worker not
  // yet heard from fails); a timeout names how many are missing. Worker: returns at once.
  virtual Status wait_for_workers(std::chrono::milliseconds timeout) = 0;
};

Result<std::unique_ptr<ZmqTransport>> make_zmq_coordinator_transport(const ZmqOptions& options);
Result<std::unique_ptr<ZmqTransport>> make_zmq_worker_transport(const ZmqOptions& options);

}  // namespace xfed::transport
