// The ZeroMQ transport's insides, shared by its four files (not an interface: include only
// from transport/zmq/*.cc). zmq_transport.cc: the socket, the I/O thread, sending and
// receiving; zmq_flow.cc: windows, acknowledgements, chunks, closing; zmq_coordinator_side.cc:
// admission, heartbeats and losses of workers; zmq_worker_side.cc: welcomes, refusals,
// losing and finding the coordinator.
#pragma once

#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/log.h"
#include "transport/zmq/chunks.h"
#include "transport/zmq/greeting.h"
#include "transport/zmq/zap_handler.h"
#include "transport/zmq/zmq_check.h"
#include "transport/zmq/zmq_transport.h"

namespace xfed::transport::zmq_detail {

using Clock = std::chrono::steady_clock;
enum class Wire : uint8_t {
  kFrame = 0, kHeartbeat = 1, kHello = 2, kWelcome = 3, kChunk = 4, kRefused = 5, kHelloPlease = 6, kAck = 7
};
inline constexpr uint8_t kLastWire = 7;
// Flow control: a peer has at most kWindow frames and chunks unacknowledged in flight (so
// zmq's queues hold at most that many, and heartbeats never wait behind a whole model); a
// receiver acknowledges what its I/O thread took (u64: how many so far) while less than
// kBacklogBytes of that peer's frames wait for recv, and holds its acks above that. A peer
// that sends past twice its window ignores the protocol: the excess is dropped.
inline constexpr uint64_t kWindow = 16;
inline constexpr int64_t kBacklogBytes = int64_t{16} << 20;
inline constexpr int kReceiveHighWater = 4 * static_cast<int>(kWindow);  // messages zmq queues per peer
// Messages the I/O thread takes per turn: acknowledgements and heartbeats go out between
// them, however slowly this CPU checks and copies a chunk (all the windows' chunks in one
// turn took seconds on a slow CPU, and the peers took the silence for a loss).
inline constexpr int kMessagesPerTurn = 4;
// How long closing waits for a live peer whose acknowledgements do not move at all.
inline constexpr std::chrono::seconds kCloseAckPatience{60};
// The largest zmq message part a peer may send (ZMQ_MAXMSGSIZE): a chunk, or a hello with
// its introduction; larger frames travel in chunks.
inline constexpr int64_t kMaxWireMessage = static_cast<int64_t>(kChunkBytes + kChunkHeaderBytes) + (64 << 10);

inline Status set_int(void* s, int option, int value, const char* name) {
  return zmq_check(zmq_setsockopt(s, option, &value, sizeof value), std::string("zmq_setsockopt ") + name);
}
inline Status set_text(void* s, int option, const std::string& value, const char* name) {
  return zmq_check(zmq_setsockopt(s, option, value.data(), value.size()), std::string("zmq_setsockopt ") + name);
}
inline bool carries_payload(Wire t) {
  return t == Wire::kFrame || t == Wire::kWelcome || t == Wire::kChunk || t == Wire::kHello || t == Wire::kRefused ||
         t == Wire::kAck;
}
inline bool windowed(Wire t) { return t == Wire::kFrame || t == Wire::kChunk; }
inline std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// One zmq message part; owns it.
struct Part {
  zmq_msg_t msg;
  Part() { zmq_msg_init(&msg); }
  ~Part() { zmq_msg_close(&msg); }
  Part(const Part&) = delete;
  bool receive(void* socket) { return zmq_msg_recv(&msg, socket, ZMQ_DONTWAIT) >= 0; }
  bool more() { return zmq_msg_more(&msg) != 0; }
  std::string text() { return std::string(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg)); }
  Bytes bytes() {
    const auto* p = static_cast<const uint8_t*>(zmq_msg_data(&msg));
    return Bytes(p, p + zmq_msg_size(&msg));
  }
};

// Drops the rest of a multipart message.
inline void skip_rest(void* socket, Part& last) {
  bool more = last.more();
  while (more) {
    Part rest;
    if (!rest.receive(socket)) return;
    more = rest.more();
  }
}

struct Outgoing {  // a frame on its way: sent whole, or in chunks when larger than kChunkBytes
  int dest;
  Bytes payload;
  size_t offset = 0;  // chunks already sent
};

// One message as read off the socket.
struct Incoming {
  std::string route;    // coordinator: the sender's routing id
  std::string user_id;  // coordinator with CURVE: the authenticated key
  Wire type = Wire::kFrame;
  Bytes payload;
};

// What both roles share: the socket and its I/O thread, the queues, heartbeats.
class ZmqTransportImpl : public ZmqTransport {
 public:
  ZmqTransportImpl(bool coordinator, const ZmqOptions& options) : coordinator_(coordinator), options_(options) {}
  ~ZmqTransportImpl() override { shut_down(); }

  Status open();
  std::string name() const override { return "zmq"; }
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string endpoint() const override { return endpoint_; }
  Status send(int dest, Bytes bytes) override;
  Received recv(const RecvOptions& options) override;
  Received take_received(const RecvOptions& options);
  uint64_t joins(int rank) const override;
  ZmqTraffic traffic() const override {
    return {messages_sent_, bytes_sent_, messages_received_, bytes_received_};
  }
  void close() override;
  void flush(std::chrono::milliseconds timeout) override;
  // Worker: waits for the coordinator's welcome (or its refusal).
  Status wait_welcome();
  Status wait_for_workers(std::chrono::milliseconds timeout) override;

 private:
  struct Peer {  // the coordinator as seen by a worker is peer 0
    // Coordinator: the ROUTER routing id of the connection this worker's key was admitted
    // on; only its hello (authenticated as that key) sets it.
    std::string route;
    Clock::time_point heard{}, sent_at{};
    bool alive = false;  // admitted and not lost; written by the I/O thread under mu_
    uint64_t joins = 0;  // admissions, under mu_
    // Flow control (I/O thread), reset when a worker is admitted anew or welcomed back.
    uint64_t sent = 0, acked = 0;          // our frames and chunks handed to zmq / acknowledged
    uint64_t received = 0, ack_sent = 0;   // its frames and chunks taken / acknowledged to it
    Clock::time_point acked_at{};          // when its acknowledgements last moved
    int64_t backlog = 0;                   // bytes of its frames waiting for recv, under mu_
    bool overrun_warned = false;
    void reset_flow(Clock::time_point now) {
      sent = acked = received = ack_sent = 0;
      acked_at = now;
      overrun_warned = false;
    }
  };
  Status open_coordinator_socket(Status st);
  Status open_worker_socket(Status st);
  Status open_monitor();
  void serve();
  void receive_ready();
  std::optional<Incoming> read_message();
  void take(Incoming in);                       // coordinator
  void admit(const std::string& route, const std::string& user_id, const Bytes& payload);
  void handle(int from, Wire type, Bytes payload);
  void handle_worker_side(Wire type, const Bytes& payload);
  void read_monitor();
  // Sends what is queued: small frames whole, and one chunk of each large one; true while
  // chunks are left to send at once (false also when a worker must wait to be welcomed).
  bool flush_outgoing();
  // False if zmq would not take it: the coordinator then loses that worker; a worker keeps
  // the frame and tries again (it is reconnecting).
  bool transmit(int dest, Wire type, const Bytes& payload);
  bool transmit_to(const std::string& route, Wire type, const Bytes& payload);
  void take_chunk(int from, const Bytes& payload);
  void take_ack(int from, const Bytes& payload);
  // False (and dropped, loudly) for a frame or chunk past twice the peer's window.
  bool within_window(int from);
  void send_acks();
  // True once nothing sent before close is waiting for a live peer's acknowledgement (a
  // peer whose acknowledgements stalled for the liveness period is given up on).
  bool drained(Clock::time_point now);
  void drop_queued_for(int rank);
  void forgive_own_pause(Clock::time_point now, Clock::time_point last_turn);
  void tick();
  void tick_coordinator(Clock::time_point now);
  void tick_worker(Clock::time_point now);
  void lose(int rank, const std::string& why);
  // Coordinator: a message on a connection other than the one `rank`'s key was admitted on.
  void replaced(int rank, const std::string& route);
  int rank_on_route(const std::string& route) const;  // the live rank admitted there, or 0
  void unwelcome(const std::string& why);
  void refused(const std::string& why);
  void push_in(Received r);
  void wake();
  void shut_down();

  const bool coordinator_;
  const ZmqOptions options_;
  void* context_ = nullptr;
  void* socket_ = nullptr;
  void* wake_tx_ = nullptr;
  void* wake_rx_ = nullptr;
  void* monitor_ = nullptr;  // worker: handshake failures of its socket
  std::unique_ptr<ZapHandler> zap_;
  std::map<std::string, int> rank_of_key_;
  std::map<std::string, int> rank_of_route_;  // coordinator, insecure: who said hello where
  std::string endpoint_;
  std::atomic<int> rank_{0}, world_{0};  // a worker learns both from its welcome (I/O thread)
  std::vector<Peer> peers_;  // by rank (worker: only [0] used)
  std::deque<Outgoing> sending_;         // I/O thread: frames being sent in chunks, in order
  std::map<int, ChunkAssembler> assembling_;  // I/O thread: per peer, the large frame arriving
  std::optional<Clock::time_point> unwelcome_since_;  // worker, I/O thread: lost its coordinator
  bool gave_up_ = false;                              // worker, I/O thread
  int protocol_warned_ = 0;                           // worker, I/O thread
  Clock::time_point last_tick_ = Clock::now();        // I/O thread

  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::deque<Received> inbox_;
  std::deque<Outgoing> outbox_;
  bool closed_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> all_sent_{true};  // I/O thread: nothing queued or unacknowledged to a live peer
  std::atomic<bool> acks_held_{false};  // I/O thread held acks for a backlog: recv wakes it
  std::atomic<uint64_t> messages_sent_{0}, bytes_sent_{0}, messages_received_{0}, bytes_received_{0};
  bool welcomed_ = false, ever_welcomed_ = false;
  std::string refusal_;  // worker: why the coordinator would not admit it
  std::thread io_;
};

}  // namespace xfed::transport::zmq_detail
