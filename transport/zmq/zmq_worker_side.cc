// The worker's side of the ZeroMQ transport: welcomes and refusals, the handshake monitor,
// losing the coordinator and saying hello until it answers (bounded).
#include "transport/zmq/zmq_endpoint.h"

namespace xfed::transport::zmq_detail {

void ZmqTransportImpl::handle_worker_side(Wire type, const Bytes& payload) {
  if (windowed(type) || type == Wire::kAck) return handle(0, type, payload);
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
    if (!welcomed_) peers_[0].reset_flow(Clock::now());  // a new admission: counting starts again
    welcomed_ = ever_welcomed_ = true;
    peers_[0].alive = true;
  }
  unwelcome_since_.reset();
  if (back) log_info("edge: " + peer_name(rank_.load()) + " is welcomed back by the coordinator at " + options_.endpoint);
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
    peers_[0].alive = false;  // nothing it sends counts any more: closing waits for no acknowledgement
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
  if (now - coordinator.sent_at >= options_.heartbeat) transmit(0, Wire::kHeartbeat, {});
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

}  // namespace xfed::transport::zmq_detail
