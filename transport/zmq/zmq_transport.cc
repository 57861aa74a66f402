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
#include <thread>

#include "core/log.h"
#include "transport/zmq/chunks.h"
#include "transport/zmq/zap_handler.h"
#include "transport/zmq/zmq_check.h"

namespace xfed::transport {
namespace {

using Clock = std::chrono::steady_clock;
enum class Wire : uint8_t { kFrame = 0, kHeartbeat = 1, kHello = 2, kWelcome = 3, kChunk = 4 };
constexpr int kReceiveHighWater = 1000;  // messages queued per peer before zmq stops reading it

Status set_int(void* s, int option, int value, const char* name) {
  return zmq_check(zmq_setsockopt(s, option, &value, sizeof value), std::string("zmq_setsockopt ") + name);
}
Status set_text(void* s, int option, const std::string& value, const char* name) {
  return zmq_check(zmq_setsockopt(s, option, value.data(), value.size()), std::string("zmq_setsockopt ") + name);
}

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

struct Outgoing {
  int dest;
  Wire type;
  Bytes payload;
  size_t offset = 0;  // chunks already sent
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
  void close() override;
  // Worker: waits for the coordinator's welcome.
  Status wait_welcome();
  Status wait_for_workers(std::chrono::milliseconds timeout) override;

 private:
  struct Peer {  // the coordinator as seen by a worker is peer 0
    std::string route;  // ROUTER routing id (coordinator side)
    Clock::time_point heard{}, sent{};
    bool alive = false;  // written by the I/O thread under mu_, read by send under mu_
  };
  void serve();
  void receive_ready();
  void handle(int from, Wire type, Bytes payload);
  // Sends what is queued: small frames whole, and one chunk of each large one; true while
  // chunks are left to send at once (false also when a disconnected worker must wait).
  bool flush_outgoing();
  // False if zmq would not take it: the coordinator then loses that worker; a worker keeps
  // the frame and tries again (it is reconnecting).
  bool transmit(int dest, Wire type, const uint8_t* payload, size_t size);
  bool transmit(int dest, Wire type, const Bytes& payload) { return transmit(dest, type, payload.data(), payload.size()); }
  void take_chunk(int from, const Bytes& payload);
  void tick();
  void lose(int rank, const std::string& why);
  void push_in(Received r);
  void wake();
  void shut_down();

  const bool coordinator_;
  const ZmqOptions options_;
  void* context_ = nullptr;
  void* socket_ = nullptr;
  void* wake_tx_ = nullptr;
  void* wake_rx_ = nullptr;
  std::unique_ptr<ZapHandler> zap_;
  std::map<std::string, int> rank_of_key_;
  std::string endpoint_;
  int rank_ = 0, world_ = 0;
  std::vector<Peer> peers_;  // by rank (worker: only [0] used)
  std::deque<Outgoing> sending_;         // I/O thread: frames being sent in chunks, in order
  std::map<int, ChunkAssembler> assembling_;  // I/O thread: per peer, the large frame arriving

  std::mutex mu_;
  std::condition_variable arrived_;
  std::deque<Received> inbox_;
  std::deque<Outgoing> outbox_;
  bool closed_ = false;
  std::atomic<bool> stop_{false};
  bool welcomed_ = false;
  std::thread io_;
};

Status ZmqTransportImpl::open() {
  context_ = zmq_ctx_new();
  if (!context_) return zmq_check(-1, "zmq_ctx_new");
  if (coordinator_) {
    auto keys = options_.authorized;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (size_t i = 0; i < keys.size(); ++i) rank_of_key_[keys[i]] = static_cast<int>(i) + 1;
    world_ = static_cast<int>(keys.size()) + 1;
    auto zap = ZapHandler::start(context_, keys);  // before bind: fail closed
    if (!zap) return zap.status();
    zap_ = std::move(zap).value();
  }
  socket_ = zmq_socket(context_, coordinator_ ? ZMQ_ROUTER : ZMQ_DEALER);
  if (!socket_) return zmq_check(-1, "zmq_socket");
  const auto max = static_cast<int64_t>(options_.max_message_bytes);
  Status st = set_int(socket_, ZMQ_LINGER, 0, "ZMQ_LINGER");
  if (st) st = zmq_check(zmq_setsockopt(socket_, ZMQ_MAXMSGSIZE, &max, sizeof max), "zmq_setsockopt ZMQ_MAXMSGSIZE");
  if (st) st = set_int(socket_, ZMQ_SNDHWM, 0, "ZMQ_SNDHWM");  // never drop our own frames
  if (st) st = set_int(socket_, ZMQ_RCVHWM, kReceiveHighWater, "ZMQ_RCVHWM");
  if (coordinator_) {
    if (st) st = set_int(socket_, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY");
    if (st) st = set_int(socket_, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER");
    if (st) st = set_text(socket_, ZMQ_CURVE_SECRETKEY, options_.keys.secret_key, "ZMQ_CURVE_SECRETKEY");
    if (st) st = set_text(socket_, ZMQ_ZAP_DOMAIN, "xfed", "ZMQ_ZAP_DOMAIN");
    if (st) st = zmq_check(zmq_bind(socket_, options_.endpoint.c_str()), "zmq_bind " + options_.endpoint);
    char bound[512];
    size_t size = sizeof bound;
    if (st) st = zmq_check(zmq_getsockopt(socket_, ZMQ_LAST_ENDPOINT, bound, &size), "zmq_getsockopt ZMQ_LAST_ENDPOINT");
    if (st) endpoint_ = bound;
  } else {
    if (st) st = set_text(socket_, ZMQ_CURVE_SERVERKEY, options_.server_public_key, "ZMQ_CURVE_SERVERKEY");
    if (st) st = set_text(socket_, ZMQ_CURVE_PUBLICKEY, options_.keys.public_key, "ZMQ_CURVE_PUBLICKEY");
    if (st) st = set_text(socket_, ZMQ_CURVE_SECRETKEY, options_.keys.secret_key, "ZMQ_CURVE_SECRETKEY");
    if (st) st = set_int(socket_, ZMQ_RECONNECT_IVL, 100, "ZMQ_RECONNECT_IVL");
    if (st) st = set_int(socket_, ZMQ_RECONNECT_IVL_MAX, 5000, "ZMQ_RECONNECT_IVL_MAX");
    if (st) st = zmq_check(zmq_connect(socket_, options_.endpoint.c_str()), "zmq_connect " + options_.endpoint);
    endpoint_ = options_.endpoint;
    world_ = 2;  // until welcomed
  }
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
  for (void** s : {&socket_, &wake_tx_, &wake_rx_})
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
    zmq_pollitem_t items[2] = {{socket_, 0, ZMQ_POLLIN, 0}, {wake_rx_, 0, ZMQ_POLLIN, 0}};
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now());
    if (zmq_poll(items, 2, busy ? 0 : std::max<long>(0, wait.count())) < 0) continue;
    if (items[1].revents & ZMQ_POLLIN) {
      Part drain;
      while (drain.receive(wake_rx_)) {
      }
    }
    if (items[0].revents & ZMQ_POLLIN) receive_ready();
    busy = flush_outgoing();
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

// Every message waiting on the socket: [routing id] type [payload].
void ZmqTransportImpl::receive_ready() {
  while (true) {
    Part first;
    if (!first.receive(socket_)) return;
    std::string route;
    int from = 0;
    Part type_part;
    Part* typed = &first;
    if (coordinator_) {
      route = first.text();
      if (!first.more() || !type_part.receive(socket_)) continue;
      typed = &type_part;
      const char* user = zmq_msg_gets(&typed->msg, "User-Id");
      const auto it = user ? rank_of_key_.find(user) : rank_of_key_.end();
      if (it == rank_of_key_.end()) {  // fail closed: never act on an unauthenticated message
        log_warning("edge: dropped a message without an authorized user id");
        while (typed->more()) {
          Part rest;
          if (!rest.receive(socket_)) break;
          if (!rest.more()) break;
        }
        continue;
      }
      from = it->second;
    }
    const auto type_bytes = typed->bytes();
    Bytes payload;
    if (typed->more()) {
      Part body;
      if (body.receive(socket_)) payload = body.bytes();
      while (body.more()) {  // a peer that sends extra parts: drop them
        Part extra;
        if (!extra.receive(socket_) || !extra.more()) break;
      }
    }
    if (type_bytes.size() != 1 || type_bytes[0] > static_cast<uint8_t>(Wire::kChunk)) {
      log_warning("edge: dropped a malformed message from " + peer_name(from));
      continue;
    }
    auto& peer = peers_[coordinator_ ? from : 0];
    if (coordinator_) peer.route = route;
    peer.heard = Clock::now();
    if (!peer.alive) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        peer.alive = true;  // joined, or back
      }
      arrived_.notify_all();
    }
    handle(from, static_cast<Wire>(type_bytes[0]), std::move(payload));
  }
}

void ZmqTransportImpl::handle(int from, Wire type, Bytes payload) {
  if (type == Wire::kFrame) {
    push_in(Received{Received::Kind::kMessage, Message{from, std::move(payload)}, Status::ok()});
  } else if (type == Wire::kChunk) {
    take_chunk(from, payload);
  } else if (type == Wire::kHello && coordinator_) {
    Bytes welcome;
    ByteWriter w(&welcome);
    w.put_u32(static_cast<uint32_t>(from));
    w.put_u32(static_cast<uint32_t>(world_));
    transmit(from, Wire::kWelcome, welcome);
  } else if (type == Wire::kWelcome && !coordinator_ && !welcomed_) {
    ByteReader r(payload.data(), payload.size());
    uint32_t rank = 0, world = 0;
    if (r.get_u32(&rank) && r.get_u32(&world) && rank >= 1 && rank < world) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        rank_ = static_cast<int>(rank);
        world_ = static_cast<int>(world);
        welcomed_ = true;
      }
      arrived_.notify_all();
    }
  }
}

bool ZmqTransportImpl::flush_outgoing() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& o : outbox_) sending_.push_back(std::move(o));
    outbox_.clear();
  }
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
  auto frame = assembler.add(payload);
  if (!frame) {
    log_warning("edge: dropped a frame from " + peer_name(from) + ": " + frame.message());
  } else if (frame.value()) {
    push_in(Received{Received::Kind::kMessage, Message{from, std::move(*frame.value())}, Status::ok()});
  }
}

bool ZmqTransportImpl::transmit(int dest, Wire type, const uint8_t* payload, size_t size) {
  auto& peer = peers_[coordinator_ ? dest : 0];
  const uint8_t t = static_cast<uint8_t>(type);
  const bool body = type == Wire::kFrame || type == Wire::kWelcome || type == Wire::kChunk;
  bool ok = true;
  if (coordinator_) ok = zmq_send(socket_, peer.route.data(), peer.route.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
  if (ok) ok = zmq_send(socket_, &t, 1, (body ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) >= 0;
  if (ok && body) ok = zmq_send(socket_, payload, size, ZMQ_DONTWAIT) >= 0;
  if (ok) {
    peer.sent = Clock::now();
  } else if (coordinator_) {
    lose(dest, zmq_check(-1, "zmq_send").message());
  }
  return ok;
}

void ZmqTransportImpl::tick() {
  const auto now = Clock::now();
  const auto silence = options_.heartbeat * options_.liveness;
  if (!coordinator_ && !welcomed_) {
    transmit(0, Wire::kHello, {});
    return;
  }
  for (size_t r = coordinator_ ? 1 : 0; r < peers_.size(); ++r) {
    auto& peer = peers_[r];
    if (!peer.alive && !(r == 0 && !coordinator_)) continue;
    if (peer.alive && now - peer.heard > silence) {
      lose(static_cast<int>(r), "silent for " + std::to_string(silence.count()) + " ms");
      continue;
    }
    if (now - peer.sent >= options_.heartbeat) transmit(static_cast<int>(r), Wire::kHeartbeat, {});
  }
}

void ZmqTransportImpl::lose(int rank, const std::string& why) {
  auto& peer = peers_[coordinator_ ? rank : 0];
  if (!peer.alive) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    peer.alive = false;
  }
  push_in(Received{Received::Kind::kError, Message{rank, {}}, Status::peer_lost(peer_name(rank) + " is gone (" + why + ")")});
}

Status ZmqTransportImpl::wait_welcome() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!arrived_.wait_for(lock, options_.connect_timeout, [&] { return welcomed_; }))
    return Status::timeout("no welcome from the coordinator at " + options_.endpoint + " within " +
                           std::to_string(options_.connect_timeout.count()) +
                           " ms (is it running, and is this worker's key on its list?)");
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
                           " workers did not connect within " + std::to_string(timeout.count()) + " ms");
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
