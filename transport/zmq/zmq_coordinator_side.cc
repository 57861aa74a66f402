// The coordinator's side of the ZeroMQ transport: who is admitted (hello, the allow-list,
// the application's check), heartbeats to workers and the loss of silent ones.
#include "transport/zmq/zmq_endpoint.h"

namespace xfed::transport::zmq_detail {

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
  if (in.route != peer.route) return replaced(from, in.route);
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
  } else if (const int holder = rank_on_route(route); holder != 0 && holder != it->second) {
    why = "its connection is bound to another worker's key";
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
  if (peer.alive && !again)
    log_warning("edge: " + peer_name(rank) + "'s key said hello on a new connection (a restarted or second "
                "process): it replaces the old one, whose work in progress is lost");
  if (options_.insecure) rank_of_route_[route] = rank;  // old routes stay its: they are told they were replaced
  peer.route = route;
  peer.heard = Clock::now();
  if (!again) {
    drop_queued_for(rank);  // meant for the process that was there before
    peer.reset_flow(peer.heard);
    std::lock_guard<std::mutex> lock(mu_);
    peer.alive = true;
    ++peer.joins;
    // A loss reported but not yet read is withdrawn: the worker is back.
    inbox_.erase(std::remove_if(inbox_.begin(), inbox_.end(),
                                [&](const Received& r) { return r.kind == Received::Kind::kError && r.message.source == rank; }),
                 inbox_.end());
  }
  arrived_.notify_all();
  transmit(rank, Wire::kWelcome, encode_welcome({rank, world_.load()}));
}

int ZmqTransportImpl::rank_on_route(const std::string& route) const {
  for (size_t r = 1; r < peers_.size(); ++r)
    if (peers_[r].alive && peers_[r].route == route) return static_cast<int>(r);
  return 0;
}

// Heartbeats to the workers that are quiet, and the loss of those silent too long.
void ZmqTransportImpl::tick_coordinator(Clock::time_point now) {
  const auto silence = options_.heartbeat * options_.liveness;
  for (size_t r = 1; r < peers_.size(); ++r) {
    auto& peer = peers_[r];
    if (!peer.alive) continue;
    if (now - peer.heard > silence) {
      lose(static_cast<int>(r), "silent for " + ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(silence)));
      continue;
    }
    if (now - peer.sent_at >= options_.heartbeat) transmit(static_cast<int>(r), Wire::kHeartbeat, {});
  }
}

// The key of `rank` is admitted on another connection: this one belongs to a process it
// replaced (or that would hijack it). It is told so, and nothing it sends counts.
void ZmqTransportImpl::replaced(int rank, const std::string& route) {
  log_warning("edge: dropped a message from an old connection of " + peer_name(rank) + "'s key");
  transmit_to(route, Wire::kRefused,
              encode_refusal("another process with this worker's key (" + peer_name(rank) +
                             ") connected after it and replaced it"));
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

}  // namespace xfed::transport::zmq_detail
