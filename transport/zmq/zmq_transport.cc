#include "transport/zmq/zmq_transport.h"

#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <optional>
#include <thread>

#include "core/log.h"
#include "transport/zmq/chunks.h"
#include "transport/zmq/greeting.h"
#include "transport/zmq/zap_handler.h"
#include "transport/zmq/zmq_check.h"

namespace xfed::transport {
namespace {

using Clock = std::chrono::steady_clock;
enum class Wire : uint8_t {
  kFrame = 0, kHeartbeat = 1, kHello = 2, kWelcome = 3, kChunk = 4, kRefused = 5, kHelloPlease = 6
};
constexpr uint8_t kLastWire = 6;
constexpr int kReceiveHighWater = 1000;  // messages queued per peer before zmq stops reading it

Status set_int(void* s, int option, int value, const char* name) {
  return zmq_check(zmq_setsockopt(s, option, &value, sizeof value), std::string("zmq_setsockopt ") + name);
}
Status set_text(void* s, int option, const std::string& value, const char* name) {
  return zmq_check(zmq_setsockopt(s, option, value.data(), value.size()), std::string("zmq_setsockopt ") + name);
}
bool carries_payload(Wire t) {
  return t == Wire::kFrame || t == Wire::kWelcome || t == Wire::kChunk || t == Wire::kHello || t == Wire::kRefused;
}
std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

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
void skip_rest(void* socket, Part& last) {
  bool more = last.more();
  while (more) {
    Part rest;
    if (!rest.receive(socket)) return;
    more = rest.more();
  }
}

struct Outgoing {
  int dest;
  Wire type;
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
    std::string route;  // ROUTER routing id (coordinator side)
    Clock::time_point heard{}, sent{};
    bool alive = false;  // admitted and not lost; written by the I/O thread under mu_
    uint64_t joins = 0;  // admissions, under mu_
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
  void tick();
  void tick_worker(Clock::time_point now);
  void lose(int rank, const std::string& why);
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
  int rank_ = 0, world_ = 0;
  std::vector<Peer> peers_;  // by rank (worker: only [0] used)
  std::deque<Outgoing> sending_;         // I/O thread: frames being sent in chunks, in order
  std::map<int, ChunkAssembler> assembling_;  // I/O thread: per peer, the large frame arriving
  std::optional<Clock::time_point> unwelcome_since_;  // worker, I/O thread: lost its coordinator
  bool gave_up_ = false;                              // worker, I/O thread
  int protocol_warned_ = 0;                           // worker, I/O thread

  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::deque<Received> inbox_;
  std::deque<Outgoing> outbox_;
  bool closed_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> all_sent_{true};  // I/O thread: nothing left in sending_
  std::atomic<uint64_t> messages_sent_{0}, bytes_sent_{0}, messages_received_{0}, bytes_received_{0};
  bool welcomed_ = false, ever_welcomed_ = false;
  std::string refusal_;  // worker: why the coordinator would not admit it
  std::thread io_;
};

Status ZmqTransportImpl::open() {
  context_ = zmq_ctx_new();
  if (!context_) return zmq_check(-1, "zmq_ctx_new");
  socket_ = nullptr;
  if (coordinator_) {
    auto keys = options_.authorized;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (size_t i = 0; i < keys.size(); ++i) rank_of_key_[keys[i]] = static_cast<int>(i) + 1;
    world_ = static_cast<int>(keys.size()) + 1;
    if (!options_.insecure) {
      auto zap = ZapHandler::start(context_, keys);  // before bind: fail closed
      if (!zap) return zap.status();
      zap_ = std::move(zap).value();
    }
  }
  socket_ = zmq_socket(context_, coordinator_ ? ZMQ_ROUTER : ZMQ_DEALER);
  if (!socket_) return zmq_check(-1, "zmq_socket");
  const auto max = static_cast<int64_t>(options_.max_message_bytes);
  Status st = set_int(socket_, ZMQ_LINGER, 0, "ZMQ_LINGER");
  if (st) st = zmq_check(zmq_setsockopt(socket_, ZMQ_MAXMSGSIZE, &max, sizeof max), "zmq_setsockopt ZMQ_MAXMSGSIZE");
  if (st) st = set_int(socket_, ZMQ_SNDHWM, 0, "ZMQ_SNDHWM");  // never drop our own frames
  if (st) st = set_int(socket_, ZMQ_RCVHWM, kReceiveHighWater, "ZMQ_RCVHWM");
  st = coordinator_ ? open_coordinator_socket(st) : open_worker_socket(st);
  if (!st) return st;
  const std::string wake = "inproc://xfed-wake-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  wake_rx_ = zmq_socket(context_, ZMQ_PAIR);
  wake_tx_ = zmq_socket(context_, ZMQ_PAIR);
  if (!wake_rx_ || !wake_tx_) return zmq_check(-1, "zmq_socket (wake)");
  if (st = zmq_check(zmq_bind(wake_rx_, wake.c_str()), "zmq_bind " + wake); !st) return st;
  if (st = zmq_check(zmq_connect(wake_tx_, wake.c_str()), "zmq_connect " + wake); !st) return st;
  peers_.assign(coordinator_ ? world_ : 1, Peer{});
  io_ = std::thread([this] { serve(); });
  return Status::ok();
}

Status ZmqTransportImpl::open_coordinator_socket(Status st) {
  if (st) st = set_int(socket_, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY");
  if (st) st = set_int(socket_, ZMQ_ROUTER_HANDOVER, 1, "ZMQ_ROUTER_HANDOVER");
  if (!options_.insecure) {
    if (st) st = set_int(socket_, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER");
    if (st) st = set_text(socket_, ZMQ_CURVE_SECRETKEY, options_.keys.secret_key, "ZMQ_CURVE_SECRETKEY");
    if (st) st = set_text(socket_, ZMQ_ZAP_DOMAIN, "xfed", "ZMQ_ZAP_DOMAIN");
  }
  if (st) st = zmq_check(zmq_bind(socket_, options_.endpoint.c_str()), "zmq_bind " + options_.endpoint);
  char bound[512];
  size_t size = sizeof bound;
  if (st) st = zmq_check(zmq_getsockopt(socket_, ZMQ_LAST_ENDPOINT, bound, &size), "zmq_getsockopt ZMQ_LAST_ENDPOINT");
  if (st) endpoint_ = bound;
  return st;
}

Status ZmqTransportImpl::open_worker_socket(Status st) {
  // A stable routing id: a reconnected worker takes over its route (ROUTER_HANDOVER).
  if (st) st = set_text(socket_, ZMQ_ROUTING_ID, "w" + options_.keys.public_key, "ZMQ_ROUTING_ID");
  if (!options_.insecure) {
    if (st) st = set_text(socket_, ZMQ_CURVE_SERVERKEY, options_.server_public_key, "ZMQ_CURVE_SERVERKEY");
    if (st) st = set_text(socket_, ZMQ_CURVE_PUBLICKEY, options_.keys.public_key, "ZMQ_CURVE_PUBLICKEY");
    if (st) st = set_text(socket_, ZMQ_CURVE_SECRETKEY, options_.keys.secret_key, "ZMQ_CURVE_SECRETKEY");
  }
  // Reconnects back off from 100 ms to 5 s; libzmq adds a random jitter to each interval.
  if (st) st = set_int(socket_, ZMQ_RECONNECT_IVL, 100, "ZMQ_RECONNECT_IVL");
  if (st) st = set_int(socket_, ZMQ_RECONNECT_IVL_MAX, 5000, "ZMQ_RECONNECT_IVL_MAX");
  if (st) st = open_monitor();
  if (st) st = zmq_check(zmq_connect(socket_, options_.endpoint.c_str()), "zmq_connect " + options_.endpoint);
  endpoint_ = options_.endpoint;
  world_ = 2;  // until welcomed
  return st;
}

Status ZmqTransportImpl::open_monitor() {
  const std::string address = "inproc://xfed-monitor-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  const int events = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
  if (auto st = zmq_check(zmq_socket_monitor(socket_, address.c_str(), events), "zmq_socket_monitor"); !st)
    return st;
  monitor_ = zmq_socket(context_, ZMQ_PAIR);
  if (!monitor_) return zmq_check(-1, "zmq_socket (monitor)");
  return zmq_check(zmq_connect(monitor_, address.c_str()), "zmq_connect " + address);
}

void ZmqTransportImpl::shut_down() {
  stop_ = true;
  if (io_.joinable()) {
    wake();
    io_.join();
  }
  if (socket_) {
    const bool anyone = std::any_of(peers_.begin(), peers_.end(), [](const Peer& p) { return p.alive; });
    const int linger = anyone ? static_cast<int>(options_.linger.count()) : 0;
    (void)set_int(socket_, ZMQ_LINGER, linger, "ZMQ_LINGER");
  }
  for (void** s : {&socket_, &wake_tx_, &wake_rx_, &monitor_})
    if (*s) zmq_close(*s);
  zap_.reset();
  if (context_) zmq_ctx_term(context_);
  context_ = nullptr;
}

void ZmqTransportImpl::wake() {
  std::lock_guard<std::mutex> lock(mu_);
  if (wake_tx_) (void)zmq_send(wake_tx_, "", 0, ZMQ_DONTWAIT);
}

void ZmqTransportImpl::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  arrived_.notify_all();
}

void ZmqTransportImpl::flush(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (outbox_.empty() && all_sent_) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Status ZmqTransportImpl::send(int dest, Bytes bytes) {
  if (dest < 0 || dest >= world_)
    return Status::error("send to rank " + std::to_string(dest) + ": no such rank (world " + std::to_string(world_) + ")");
  if (coordinator_ ? dest == 0 : dest != 0)
    return Status::error("transport 'zmq' does not support sends between workers or to oneself");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::peer_lost("send to " + peer_name(dest) + ": transport closed");
    const auto& peer = peers_[coordinator_ ? dest : 0];
    if (coordinator_ && !peer.alive)
      return Status::peer_lost("send to " + peer_name(dest) + ": not connected");
    outbox_.push_back({dest, Wire::kFrame, std::move(bytes)});
    all_sent_ = false;
    if (wake_tx_) (void)zmq_send(wake_tx_, "", 0, ZMQ_DONTWAIT);
  }
  return Status::ok();
}

Received ZmqTransportImpl::recv(const RecvOptions& options) {
  if (options.source != kAnySource && (options.source < 0 || options.source >= world_))
    return Received{Received::Kind::kError, {},
                    Status::error("receive from rank " + std::to_string(options.source) + ": no such rank (world " +
                                  std::to_string(world_) + ")")};
  std::unique_lock<std::mutex> lock(mu_);
  std::deque<Received>::iterator it;
  auto ready = [&] {
    it = std::find_if(inbox_.begin(), inbox_.end(), [&](const Received& r) {
      return options.source == kAnySource || r.message.source == options.source;
    });
    return closed_ || it != inbox_.end();
  };
  if (options.timeout.count() < 0) {
    arrived_.wait(lock, ready);
  } else if (!arrived_.wait_for(lock, options.timeout, ready)) {
    return Received{Received::Kind::kTimeout, {}, Status::timeout("timed out")};
  }
  if (it == inbox_.end()) return Received{Received::Kind::kError, {}, Status::peer_lost("transport closed")};
  Received r = std::move(*it);
  inbox_.erase(it);
  return r;
}

uint64_t ZmqTransportImpl::joins(int rank) const {
  if (!coordinator_) return 1;
  std::lock_guard<std::mutex> lock(mu_);
  return rank > 0 && rank < static_cast<int>(peers_.size()) ? peers_[rank].joins : 0;
}

void ZmqTransportImpl::push_in(Received r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(std::move(r));
  }
  arrived_.notify_all();
}

void ZmqTransportImpl::serve() {
  const auto tick_every = std::max(std::chrono::milliseconds(1), options_.heartbeat / 2);
  auto next_tick = Clock::now();
  bool busy = false;
  while (!stop_) {
    zmq_pollitem_t items[3] = {{socket_, 0, ZMQ_POLLIN, 0}, {wake_rx_, 0, ZMQ_POLLIN, 0}, {monitor_, 0, ZMQ_POLLIN, 0}};
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now());
    if (zmq_poll(items, monitor_ ? 3 : 2, busy ? 0 : std::max<long>(0, wait.count())) < 0) continue;
    if (items[1].revents & ZMQ_POLLIN) {
      Part drain;
      while (drain.receive(wake_rx_)) {
      }
    }
    if (items[0].revents & ZMQ_POLLIN) receive_ready();
    if (monitor_ && (items[2].revents & ZMQ_POLLIN)) read_monitor();
    busy = flush_outgoing();
    all_sent_ = sending_.empty();
    if (Clock::now() >= next_tick) {
      tick();
      next_tick = Clock::now() + tick_every;
    }
  }
  while (flush_outgoing()) {  // what callers sent before the end still leaves (within the linger)
  }
  if (!sending_.empty())
    log_warning("edge: " + std::to_string(sending_.size()) + " frame(s) not sent before the transport closed (disconnected)");
}

// One message off the socket: [routing id] type [payload]; nullopt when none is waiting or
// it is malformed (then dropped, loudly).
std::optional<Incoming> ZmqTransportImpl::read_message() {
  Incoming in;
  Part first, type_part;
  if (!first.receive(socket_)) return std::nullopt;
  Part* typed = &first;
  if (coordinator_) {
    in.route = first.text();
    if (!first.more() || !type_part.receive(socket_)) return Incoming{};  // an empty message: skipped
    typed = &type_part;
    if (const char* user = zmq_msg_gets(&typed->msg, "User-Id")) in.user_id = user;
  }
  const auto type_bytes = typed->bytes();
  if (typed->more()) {
    Part body;
    if (body.receive(socket_)) in.payload = body.bytes();
    skip_rest(socket_, body);  // a peer that sends extra parts: dropped
  }
  if (type_bytes.size() != 1 || type_bytes[0] > kLastWire) {
    log_warning("edge: dropped a malformed message" + (in.user_id.empty() ? "" : " from key " + in.user_id));
    in.type = Wire::kHeartbeat;
    in.payload.clear();
    in.route.clear();
    return in;
  }
  in.type = static_cast<Wire>(type_bytes[0]);
  ++messages_received_;
  bytes_received_ += 1 + in.payload.size();
  return in;
}

// Every message waiting on the socket.
void ZmqTransportImpl::receive_ready() {
  while (auto in = read_message()) {
    if (coordinator_) {
      if (!in->route.empty()) take(std::move(*in));
      continue;
    }
    peers_[0].heard = Clock::now();
    handle_worker_side(in->type, in->payload);
  }
}

// Coordinator: a hello is an admission request; anything else counts only from an
// admitted worker (others are asked to say hello first).
void ZmqTransportImpl::take(Incoming in) {
  if (in.type == Wire::kHello) return admit(in.route, in.user_id, in.payload);
  int from = 0;
  if (options_.insecure) {
    const auto it = rank_of_route_.find(in.route);
    if (it != rank_of_route_.end()) from = it->second;
  } else {
    const auto it = rank_of_key_.find(in.user_id);
    if (it == rank_of_key_.end()) {  // fail closed: never act on an unauthenticated message
      log_warning("edge: dropped a message without an authorized user id");
      return;
    }
    from = it->second;
  }
  if (from == 0 || !peers_[from].alive) {
    transmit_to(in.route, Wire::kHelloPlease, {});
    return;
  }
  auto& peer = peers_[from];
  peer.route = in.route;
  peer.heard = Clock::now();
  handle(from, in.type, std::move(in.payload));
}

void ZmqTransportImpl::admit(const std::string& route, const std::string& user_id, const Bytes& payload) {
  auto hello = decode_hello(payload);
  if (!hello) {
    log_warning("edge: dropped a hello" + (user_id.empty() ? "" : " from key " + user_id) + ": " + hello.message());
    return;
  }
  const std::string& key = options_.insecure ? hello.value().public_key : user_id;
  const auto it = rank_of_key_.find(key);
  std::string why;
  if (it == rank_of_key_.end()) {
    why = "key " + key + " is not on the coordinator's authorized list";
  } else if (!options_.insecure && hello.value().public_key != user_id) {
    why = "the hello names key " + hello.value().public_key + " but the connection is authenticated as " + user_id;
  } else if (options_.admit) {
    why = options_.admit(it->second, hello.value().introduction);
  }
  if (!why.empty()) {
    log_warning("edge: refused " + (it == rank_of_key_.end() ? "a worker" : peer_name(it->second)) + ": " + why);
    transmit_to(route, Wire::kRefused, encode_refusal(why));
    return;
  }
  const int rank = it->second;
  auto& peer = peers_[rank];
  const bool again = peer.alive && peer.route == route;  // a repeated hello: its welcome was on the way
  if (options_.insecure) {
    for (auto r = rank_of_route_.begin(); r != rank_of_route_.end();)
      r = r->second == rank ? rank_of_route_.erase(r) : std::next(r);
    rank_of_route_[route] = rank;
  }
  peer.route = route;
  peer.heard = Clock::now();
  if (!again) {
    std::lock_guard<std::mutex> lock(mu_);
    peer.alive = true;
    ++peer.joins;
    // A loss reported but not yet read is withdrawn: the worker is back.
    inbox_.erase(std::remove_if(inbox_.begin(), inbox_.end(),
                                [&](const Received& r) { return r.kind == Received::Kind::kError && r.message.source == rank; }),
                 inbox_.end());
  }
  arrived_.notify_all();
  transmit(rank, Wire::kWelcome, encode_welcome({rank, world_}));
}

void ZmqTransportImpl::handle(int from, Wire type, Bytes payload) {
  if (type == Wire::kFrame) {
    push_in(Received{Received::Kind::kMessage, Message{from, std::move(payload)}, Status::ok()});
  } else if (type == Wire::kChunk) {
    take_chunk(from, payload);
  }
}

void ZmqTransportImpl::handle_worker_side(Wire type, const Bytes& payload) {
  if (type == Wire::kFrame || type == Wire::kChunk) return handle(0, type, payload);
  if (type == Wire::kHelloPlease) return unwelcome("the coordinator asks this worker to say hello again");
  if (type == Wire::kRefused) {
    auto why = decode_refusal(payload);
    return refused(why ? why.value() : "refused (" + why.message() + ")");
  }
  if (type != Wire::kWelcome) return;
  auto welcome = decode_welcome(payload);
  if (!welcome) {
    log_warning("edge: " + welcome.message() + " from the coordinator");
    return;
  }
  const bool back = ever_welcomed_ && !welcomed_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rank_ = welcome.value().rank;
    world_ = welcome.value().world;
    welcomed_ = ever_welcomed_ = true;
    peers_[0].alive = true;
  }
  unwelcome_since_.reset();
  if (back) log_info("edge: " + peer_name(rank_) + " is welcomed back by the coordinator at " + options_.endpoint);
  arrived_.notify_all();
}

// Worker: the coordinator would not admit it: before the first welcome wait_welcome says
// why; later the receiver learns it as an error (the worker cannot go on).
void ZmqTransportImpl::refused(const std::string& why) {
  const std::string text = "the coordinator at " + options_.endpoint + " refused this worker: " + why;
  bool report = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!refusal_.empty()) return;
    refusal_ = text;
    report = ever_welcomed_;
  }
  gave_up_ = true;
  if (report) push_in(Received{Received::Kind::kError, Message{0, {}}, Status::usage(text)});
  arrived_.notify_all();
}

void ZmqTransportImpl::read_monitor() {
  Part event;
  if (!event.receive(monitor_)) return;
  const Bytes head = event.bytes();
  skip_rest(monitor_, event);
  if (head.size() < 6) return;
  const uint16_t id = static_cast<uint16_t>(head[0] | (head[1] << 8));
  if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
    refused("it does not accept this worker's key " + options_.keys.public_key + " (not on its authorized list?)");
  else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && !protocol_warned_++)  // once: zmq retries
    log_warning("edge: the handshake with " + options_.endpoint +
                " failed (a coordinator with another --server-key, or --insecure on one side only?)");
}

void ZmqTransportImpl::unwelcome(const std::string& why) {
  if (!welcomed_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    welcomed_ = false;
    peers_[0].alive = false;
  }
  if (!unwelcome_since_) unwelcome_since_ = Clock::now();
  log_warning("edge: " + why + "; saying hello until it answers (for at most " +
              ms_text(options_.reconnect_timeout) + ")");
}

bool ZmqTransportImpl::flush_outgoing() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& o : outbox_) sending_.push_back(std::move(o));
    outbox_.clear();
  }
  if (!coordinator_ && !welcomed_) return false;  // held until the coordinator admits us again
  std::set<int> waiting;  // destinations done for this turn: one chunk each, frames in order
  for (auto it = sending_.begin(); it != sending_.end();) {
    if (waiting.count(it->dest)) {
      ++it;
      continue;
    }
    if (it->type != Wire::kFrame || it->payload.size() <= kChunkBytes) {
      if (!transmit(it->dest, it->type, it->payload) && !coordinator_) return false;  // retried on the next tick
      it = sending_.erase(it);
      continue;
    }
    const Bytes chunk = make_chunk(it->payload, it->offset);  // one per turn: heartbeats pass between
    if (!transmit(it->dest, Wire::kChunk, chunk) && !coordinator_) return false;  // retried on the next tick
    waiting.insert(it->dest);
    it->offset += chunk.size() - kChunkHeaderBytes;
    it = it->offset == it->payload.size() ? sending_.erase(it) : std::next(it);
  }
  return !sending_.empty();
}

void ZmqTransportImpl::take_chunk(int from, const Bytes& payload) {
  auto& assembler = assembling_.try_emplace(from, static_cast<uint64_t>(options_.max_message_bytes)).first->second;
  const int64_t abandoned = assembler.abandoned();
  auto frame = assembler.add(payload);
  if (assembler.abandoned() != abandoned)
    log_warning("edge: dropped the incomplete frame " + peer_name(from) + " was sending when a new one began");
  if (!frame) {
    log_warning("edge: dropped a frame from " + peer_name(from) + ": " + frame.message());
  } else if (frame.value()) {
    push_in(Received{Received::Kind::kMessage, Message{from, std::move(*frame.value())}, Status::ok()});
  }
}

bool ZmqTransportImpl::transmit_to(const std::string& route, Wire type, const Bytes& payload) {
  const uint8_t t = static_cast<uint8_t>(type);
  const bool body = carries_payload(type);
  bool ok = true;
  if (coordinator_) ok = zmq_send(socket_, route.data(), route.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
  if (ok) ok = zmq_send(socket_, &t, 1, (body ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) >= 0;
  if (ok && body) ok = zmq_send(socket_, payload.data(), payload.size(), ZMQ_DONTWAIT) >= 0;
  if (ok) {
    ++messages_sent_;
    bytes_sent_ += 1 + (body ? payload.size() : 0);
  }
  return ok;
}

bool ZmqTransportImpl::transmit(int dest, Wire type, const Bytes& payload) {
  auto& peer = peers_[coordinator_ ? dest : 0];
  const bool ok = transmit_to(peer.route, type, payload);
  if (ok) {
    peer.sent = Clock::now();
  } else if (coordinator_) {
    lose(dest, zmq_check(-1, "zmq_send").message());
  }
  return ok;
}

void ZmqTransportImpl::tick() {
  const auto now = Clock::now();
  if (!coordinator_) return tick_worker(now);
  const auto silence = options_.heartbeat * options_.liveness;
  for (size_t r = 1; r < peers_.size(); ++r) {
    auto& peer = peers_[r];
    if (!peer.alive) continue;
    if (now - peer.heard > silence) {
      lose(static_cast<int>(r), "silent for " + ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(silence)));
      continue;
    }
    if (now - peer.sent >= options_.heartbeat) transmit(static_cast<int>(r), Wire::kHeartbeat, {});
  }
}

// Worker: hello until welcomed (giving up after reconnect_timeout), heartbeats once it is.
void ZmqTransportImpl::tick_worker(Clock::time_point now) {
  auto& coordinator = peers_[0];
  if (gave_up_) return;
  if (welcomed_ && now - coordinator.heard > options_.heartbeat * options_.liveness)
    unwelcome("the coordinator at " + options_.endpoint + " is silent");
  if (!welcomed_) {
    if (unwelcome_since_ && now - *unwelcome_since_ > options_.reconnect_timeout) {
      gave_up_ = true;
      push_in(Received{Received::Kind::kError, Message{0, {}},
                       Status::peer_lost("the coordinator at " + options_.endpoint + " did not answer for " +
                                         ms_text(options_.reconnect_timeout) + "; giving up")});
      return;
    }
    Hello hello{options_.keys.public_key, options_.introduction};
    transmit(0, Wire::kHello, encode_hello(hello));
    return;
  }
  if (now - coordinator.sent >= options_.heartbeat) transmit(0, Wire::kHeartbeat, {});
}

void ZmqTransportImpl::lose(int rank, const std::string& why) {
  auto& peer = peers_[rank];
  if (!peer.alive) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    peer.alive = false;
  }
  push_in(Received{Received::Kind::kError, Message{rank, {}}, Status::peer_lost(peer_name(rank) + " is gone (" + why + ")")});
}

Status ZmqTransportImpl::wait_welcome() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!arrived_.wait_for(lock, options_.connect_timeout, [&] { return welcomed_ || !refusal_.empty(); }))
    return Status::timeout("no welcome from the coordinator at " + options_.endpoint + " within " +
                           ms_text(options_.connect_timeout) +
                           " (is it running, and is this worker's key on its list?)");
  if (!refusal_.empty()) return Status::usage(refusal_);
  return Status::ok();
}

Status ZmqTransportImpl::wait_for_workers(std::chrono::milliseconds timeout) {
  if (!coordinator_) return Status::ok();
  std::unique_lock<std::mutex> lock(mu_);
  auto missing = [&] {
    return std::count_if(peers_.begin() + 1, peers_.end(), [](const Peer& p) { return !p.alive; });
  };
  if (!arrived_.wait_for(lock, timeout, [&] { return missing() == 0; }))
    return Status::timeout(std::to_string(missing()) + " of " + std::to_string(world_ - 1) +
                           " workers did not connect within " + ms_text(timeout));
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<ZmqTransport>> make_zmq_coordinator_transport(const ZmqOptions& options) {
  if (options.authorized.empty()) return Status::usage("the coordinator needs at least one authorized worker key");
  auto t = std::make_unique<ZmqTransportImpl>(true, options);
  if (auto st = t->open(); !st) return st;
  return std::unique_ptr<ZmqTransport>(std::move(t));
}

Result<std::unique_ptr<ZmqTransport>> make_zmq_worker_transport(const ZmqOptions& options) {
  auto t = std::make_unique<ZmqTransportImpl>(false, options);
  if (auto st = t->open(); !st) return st;
  if (auto st = t->wait_welcome(); !st) return st;
  return std::unique_ptr<ZmqTransport>(std::move(t));
}

}  // namespace xfed::transport
