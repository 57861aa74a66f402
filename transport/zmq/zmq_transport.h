// ZeroMQ transport (edge devices): a coordinator process and worker processes over TCP,
// encrypted and authenticated with CURVE.
//
// - The coordinator binds a ROUTER; each worker connects a DEALER. A worker's identity is
//   its public key, never its address or socket: the coordinator's allow-list (its
//   authorized keys, sorted) gives key i the rank i + 1, so a worker that reconnects, from
//   anywhere, is the same rank. The ZAP handler (zap_handler.h) refuses every other key,
//   and a message without an authenticated user id is dropped. With `insecure` there is no
//   CURVE: a worker is the key it claims in its hello (a warning is the caller's job).
// - Admission: a worker says hello (its key and an introduction, greeting.h) until the
//   coordinator welcomes it with its rank and the world size, or refuses it with a reason
//   (`admit`, the application's check of the introduction). Until welcomed, a worker's other
//   messages are dropped and it is asked to say hello: so a restarted coordinator, or one
//   that lost a worker, admits it again before it trusts it. make_zmq_worker_transport
//   returns once welcomed (bounded by `connect_timeout`); a refusal, or the ZAP handler's
//   refusal of its key, is an error at once.
// - One I/O thread per transport owns the socket (zmq sockets are not thread-safe): send
//   queues the frame for it, recv takes from what it received. Each wire message is one
//   zmq frame: a type byte, then the payload.
// - Heartbeats both ways every `heartbeat` of silence (any traffic counts); a peer not heard
//   from for `liveness` heartbeats is lost, and only that: a send zmq cannot route at once
//   (a reconnection under way) is tried again, never taken for a loss. A pause of this
//   process itself (SIGSTOP, a starved I/O thread) is not its peers' silence: they get a
//   fresh liveness period. The coordinator reports a lost worker once (as kPeerLost to a
//   kAnySource receiver) and sends to it fail until it is admitted again (joins() counts
//   admissions). A worker that loses its coordinator keeps its frames and says hello until
//   it is welcomed again (zmq reconnects with backoff and jitter); only after
//   `reconnect_timeout` without a welcome is the coordinator reported lost.
// - Identity is the key, everywhere. A worker's routing id is random per socket (secret:
//   CURVE encrypts it), never derived from anything a peer can know; the coordinator binds a
//   rank to the connection its key's hello came on, acts on a message only when the
//   connection's authenticated key (ZAP User-Id) is that rank's and the connection is the
//   one admitted, and sends only there. A second process with the same key that says hello
//   replaces the first (a restart), and the first is told so and stops.
// - Frames above 1 MiB travel in chunks (total, offset, CRC-32, bytes); at most kWindow
//   frames and chunks per peer are unacknowledged at once (flow control, zmq_endpoint.h), so
//   heartbeats pass between them and zmq's queues hold a few chunks, not a model. A chunk out
//   of order or with a bad CRC drops its frame, loudly.
// - Memory per peer is bounded by what the protocol allows it: one frame being assembled
//   (grown by the chunks that arrived, at most `max_frame_bytes`), kBacklogBytes of its
//   frames waiting for recv plus one window, and zmq's queue of kReceiveHighWater messages
//   of at most kMaxWireMessage bytes each. Connections that do not finish their handshake
//   within `handshake_timeout` are closed.
// - Closing waits until every frame sent before it is acknowledged by its live peer, or that
//   peer's acknowledgements stalled for the liveness period (no fixed linger that a slow CPU
//   would outlast).
#pragma once

#include <chrono>
#include <functional>
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
  bool insecure = false;                 // plaintext, no authentication (both sides must agree)
  Bytes introduction;                    // worker: sent with every hello
  // Coordinator: "" admits the worker of `rank`, anything else is the reason it is refused
  // (sent to the worker and logged). Runs on the I/O thread. Null: everyone on the list.
  std::function<std::string(int rank, const Bytes& introduction)> admit;
  std::chrono::milliseconds heartbeat{1000};
  int liveness = 5;                      // heartbeats of silence before a peer is lost
  std::chrono::milliseconds connect_timeout{30000};
  // Worker: how long it keeps saying hello to a coordinator it lost before it gives up.
  std::chrono::milliseconds reconnect_timeout{120000};
  int64_t max_frame_bytes = int64_t{1} << 30;  // the largest frame a peer may send (others: dropped)
  std::chrono::milliseconds handshake_timeout{10000};
  // At close, after every frame was acknowledged, how long zmq may take to deliver our own
  // last acknowledgements.
  std::chrono::milliseconds linger{2000};
};

// Messages and bytes this process handed to zmq and took from it (type byte and payload of
// every message, heartbeats and handshakes included; not zmq's framing, CURVE or TCP).
struct ZmqTraffic {
  uint64_t messages_sent = 0, bytes_sent = 0, messages_received = 0, bytes_received = 0;
};

class ZmqTransport : public Transport {
 public:
  virtual ZmqTraffic traffic() const = 0;
  // The endpoint actually bound (a "tcp://127.0.0.1:*" bind learns its port here).
  virtual std::string endpoint() const = 0;
  virtual void close() = 0;
  // Waits (at most `timeout`) until every frame sent so far to a live peer is acknowledged.
  virtual void flush(std::chrono::milliseconds timeout) = 0;
  // Coordinator: waits until every authorized worker has connected (a send to a worker not
  // yet heard from fails); a timeout names how many are missing. Worker: returns at once.
  virtual Status wait_for_workers(std::chrono::milliseconds timeout) = 0;
};

Result<std::unique_ptr<ZmqTransport>> make_zmq_coordinator_transport(const ZmqOptions& options);
Result<std::unique_ptr<ZmqTransport>> make_zmq_worker_transport(const ZmqOptions& options);

}  // namespace xfed::transport
