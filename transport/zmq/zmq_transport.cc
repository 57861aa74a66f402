#include "transport/zmq/zmq_transport.h"

#include "transport/zmq/zmq_endpoint.h"

namespace xfed::transport {
namespace zmq_detail {

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
  const int64_t max = kMaxWireMessage;
  Status st = set_int(socket_, ZMQ_LINGER, 0, "ZMQ_LINGER");
  if (st) st = set_int(socket_, ZMQ_HANDSHAKE_IVL, static_cast<int>(options_.handshake_timeout.count()), "ZMQ_HANDSHAKE_IVL");
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
  peers_.assign(coordinator_ ? world_.load() : 1, Peer{});
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
  // A random routing id, secret to this socket and the coordinator (CURVE encrypts it): a
  // zmq reconnection keeps it and takes over its old route (ROUTER_HANDOVER); no other peer
  // can name it.
  auto nonce = generate_curve_key_pair();
  if (!nonce) return nonce.status();
  if (st) st = set_text(socket_, ZMQ_ROUTING_ID, "r" + nonce.value().public_key, "ZMQ_ROUTING_ID");
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
    outbox_.push_back({dest, std::move(bytes)});
    all_sent_ = false;
    if (wake_tx_) (void)zmq_send(wake_tx_, "", 0, ZMQ_DONTWAIT);
  }
  return Status::ok();
}

Received ZmqTransportImpl::recv(const RecvOptions& options) {
  Received r = take_received(options);
  if (r.ok() && acks_held_) wake();  // its backlog shrank: the I/O thread may acknowledge again
  return r;
}

Received ZmqTransportImpl::take_received(const RecvOptions& options) {
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
  if (r.ok()) peers_[r.message.source].backlog -= static_cast<int64_t>(r.message.bytes.size());
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
    if (r.ok()) peers_[r.message.source].backlog += static_cast<int64_t>(r.message.bytes.size());
    inbox_.push_back(std::move(r));
  }
  arrived_.notify_all();
}

void ZmqTransportImpl::serve() {
  const auto tick_every = std::max(std::chrono::milliseconds(1), options_.heartbeat / 2);
  auto next_tick = Clock::now();
  auto last_turn = Clock::now();
  bool busy = false;
  while (!(stop_ && drained(Clock::now()))) {
    zmq_pollitem_t items[3] = {{socket_, 0, ZMQ_POLLIN, 0}, {wake_rx_, 0, ZMQ_POLLIN, 0}, {monitor_, 0, ZMQ_POLLIN, 0}};
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now());
    if (zmq_poll(items, monitor_ ? 3 : 2, busy ? 0 : std::max<long>(0, wait.count())) < 0) continue;
    forgive_own_pause(Clock::now(), last_turn);
    if (items[1].revents & ZMQ_POLLIN) {
      Part drain;
      while (drain.receive(wake_rx_)) {
      }
    }
    if (items[0].revents & ZMQ_POLLIN) receive_ready();
    if (monitor_ && (items[2].revents & ZMQ_POLLIN)) read_monitor();
    send_acks();
    busy = flush_outgoing();
    if (Clock::now() >= next_tick) {
      tick();
      next_tick = Clock::now() + tick_every;
    }
    last_turn = Clock::now();
  }
  if (!sending_.empty())
    log_warning("edge: " + std::to_string(sending_.size()) + " frame(s) not delivered before the transport closed");
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

// Up to kMessagesPerTurn of the messages waiting (zmq_poll reports the rest at once).
void ZmqTransportImpl::receive_ready() {
  for (int n = 0; n < kMessagesPerTurn; ++n) {
    auto in = read_message();
    if (!in) return;
    if (coordinator_) {
      if (!in->route.empty()) take(std::move(*in));
      continue;
    }
    peers_[0].heard = Clock::now();
    handle_worker_side(in->type, in->payload);
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

void ZmqTransportImpl::tick() {
  const auto now = Clock::now();
  forgive_own_pause(now, last_tick_);  // a pause may land anywhere in a turn: checked where losses are decided
  last_tick_ = now;
  if (coordinator_)
    tick_coordinator(now);
  else
    tick_worker(now);
}

bool ZmqTransportImpl::transmit(int dest, Wire type, const Bytes& payload) {
  auto& peer = peers_[coordinator_ ? dest : 0];
  const bool ok = transmit_to(peer.route, type, payload);
  if (ok) peer.sent_at = Clock::now();
  return ok;
}

}  // namespace zmq_detail

using zmq_detail::ZmqTransportImpl;

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
