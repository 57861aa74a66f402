// The ZeroMQ transport's flow: what arrives is taken within each peer's window and
// acknowledged (unless too much of it waits for recv), what leaves waits for the peer's
// acknowledgements, closing waits until everything sent is acknowledged, and a pause of
// this process is not its peers' silence (zmq_endpoint.h has the numbers).
#include "transport/zmq/zmq_endpoint.h"

namespace xfed::transport::zmq_detail {

// A turn of the I/O loop that came long after the last one: this process was paused or
// starved, and its peers' messages could not be read meanwhile. Their silence starts now.
void ZmqTransportImpl::forgive_own_pause(Clock::time_point now, Clock::time_point last_turn) {
  if (now - last_turn <= options_.heartbeat) return;
  for (auto& peer : peers_) peer.heard = peer.acked_at = now;
}

// Closing waits for every live peer to acknowledge what was sent to it. It gives up on a
// peer that fell silent (lost, as anywhere else), or that is alive but has acknowledged
// nothing for kCloseAckPatience (its application stopped reading); a live receiver that
// reads slowly is waited for, however slow.
bool ZmqTransportImpl::drained(Clock::time_point now) {
  const auto silence = options_.heartbeat * options_.liveness;
  bool done = true;
  for (size_t i = 0; i < peers_.size(); ++i) {
    auto& peer = peers_[i];
    const bool queued = std::any_of(sending_.begin(), sending_.end(), [&](const Outgoing& o) {
      return static_cast<size_t>(o.dest) == i;
    });
    if (!peer.alive || (!queued && peer.acked == peer.sent)) continue;
    std::string why;
    if (now - peer.heard > silence)
      why = " is silent for " + ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(now - peer.heard));
    else if (now - peer.acked_at > kCloseAckPatience)
      why = " is alive but acknowledged nothing for " +
            ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(kCloseAckPatience));
    if (!why.empty()) {
      log_warning("edge: " + peer_name(static_cast<int>(i)) + why + "; closing without it");
      std::lock_guard<std::mutex> lock(mu_);
      peer.alive = false;
      continue;
    }
    done = false;
  }
  return done;
}

void ZmqTransportImpl::handle(int from, Wire type, Bytes payload) {
  if (type == Wire::kAck) return take_ack(from, payload);
  if (!windowed(type) || !within_window(from)) return;
  if (type == Wire::kChunk) return take_chunk(from, payload);
  if (static_cast<int64_t>(payload.size()) > options_.max_frame_bytes) {
    log_warning("edge: dropped a frame of " + std::to_string(payload.size()) + " bytes from " + peer_name(from) +
                " (above the limit of " + std::to_string(options_.max_frame_bytes) + ")");
    return;
  }
  push_in(Received{Received::Kind::kMessage, Message{from, std::move(payload)}, Status::ok()});
}

bool ZmqTransportImpl::within_window(int from) {
  auto& peer = peers_[from];
  if (peer.received - peer.ack_sent >= 2 * kWindow) {
    if (!peer.overrun_warned)
      log_warning("edge: " + peer_name(from) + " sends past its flow-control window; its excess is dropped");
    peer.overrun_warned = true;
    return false;
  }
  ++peer.received;
  return true;
}

void ZmqTransportImpl::take_ack(int from, const Bytes& payload) {
  ByteReader r(payload.data(), payload.size());
  uint64_t count = 0;
  if (!r.get_u64(&count)) return log_warning("edge: dropped a malformed acknowledgement from " + peer_name(from));
  auto& peer = peers_[from];
  count = std::min(count, peer.sent);
  if (count > peer.acked) {
    peer.acked = count;
    peer.acked_at = Clock::now();
  }
}

// Acknowledges what each peer sent, unless too much of it waits for recv (then recv wakes us).
void ZmqTransportImpl::send_acks() {
  bool held = false;
  for (size_t i = coordinator_ ? 1 : 0; i < peers_.size(); ++i) {
    auto& peer = peers_[i];
    if (peer.received == peer.ack_sent || (coordinator_ && !peer.alive)) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (peer.backlog > kBacklogBytes && !stop_) {
        held = true;
        continue;
      }
    }
    Bytes count;
    ByteWriter(&count).put_u64(peer.received);
    if (transmit(static_cast<int>(i), Wire::kAck, count)) peer.ack_sent = peer.received;
  }
  acks_held_ = held;
}

bool ZmqTransportImpl::flush_outgoing() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& o : outbox_) sending_.push_back(std::move(o));
    outbox_.clear();
  }
  bool sent_any = false;
  if (coordinator_ || welcomed_) {  // a worker holds its frames until the coordinator admits it again
    std::set<int> done;  // destinations finished for this turn: one chunk each, frames in order
    for (auto it = sending_.begin(); it != sending_.end();) {
      auto& peer = peers_[it->dest];
      if (coordinator_ && !peer.alive) {  // lost: the receiver was told; its frames are void
        it = sending_.erase(it);
        continue;
      }
      if (done.count(it->dest) || peer.sent - peer.acked >= kWindow) {
        done.insert(it->dest);
        ++it;
        continue;
      }
      const bool whole = it->payload.size() <= kChunkBytes;
      const Bytes chunk = whole ? Bytes() : make_chunk(it->payload, it->offset);
      if (peer.sent == peer.acked) peer.acked_at = Clock::now();  // waiting for acknowledgements starts
      if (!transmit(it->dest, whole ? Wire::kFrame : Wire::kChunk, whole ? it->payload : chunk)) {
        done.insert(it->dest);  // not routable now (reconnecting): tried again, liveness decides
        ++it;
        continue;
      }
      ++peer.sent;
      sent_any = true;
      if (!whole) {
        done.insert(it->dest);  // one chunk per turn: other destinations and heartbeats pass between
        it->offset += chunk.size() - kChunkHeaderBytes;
      }
      it = whole || it->offset == it->payload.size() ? sending_.erase(it) : std::next(it);
    }
  }
  all_sent_ = sending_.empty() && std::all_of(peers_.begin(), peers_.end(), [](const Peer& p) {
                return !p.alive || p.acked == p.sent;
              });
  return sent_any && !sending_.empty();
}

void ZmqTransportImpl::drop_queued_for(int rank) {
  sending_.erase(std::remove_if(sending_.begin(), sending_.end(), [&](const Outgoing& o) { return o.dest == rank; }),
                 sending_.end());
  assembling_.erase(rank);
}

void ZmqTransportImpl::take_chunk(int from, const Bytes& payload) {
  auto& assembler = assembling_.try_emplace(from, static_cast<uint64_t>(options_.max_frame_bytes)).first->second;
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

}  // namespace xfed::transport::zmq_detail
