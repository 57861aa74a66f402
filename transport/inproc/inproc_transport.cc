#include "transport/inproc/inproc_transport.h"

#include <algorithm>

namespace xfed::transport {

InProcHub::InProcHub(int world_size)
    : boxes_(world_size), reported_gone_(world_size, std::vector<bool>(world_size, false)) {
  XFED_CHECK_GE(world_size, 1, "InProcHub needs at least one rank");
}

Status InProcHub::deliver(int source, int dest, Bytes bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (dest < 0 || dest >= world_size())
      return Status::error("send to rank " + std::to_string(dest) + ": no such rank (world " +
                           std::to_string(world_size()) + ")");
    if (closed_) return Status::peer_lost("send to " + peer_name(dest) + ": transport closed");
    if (boxes_[dest].gone) return Status::peer_lost("send to " + peer_name(dest) + ": peer is gone");
    boxes_[dest].queue.push_back(Message{source, std::move(bytes)});
  }
  cv_.notify_all();
  return Status::ok();
}

bool InProcHub::match(Mailbox& box, int source, std::deque<Message>::iterator* it) {
  auto& q = box.queue;
  *it = std::find_if(q.begin(), q.end(), [&](const Message& m) {
    return source == kAnySource || m.source == source;
  });
  return *it != q.end();
}

Received InProcHub::take(int rank, const RecvOptions& options) {
  if (rank < 0 || rank >= world_size() ||
      (options.source != kAnySource && (options.source < 0 || options.source >= world_size())))
    return Received{Received::Kind::kError, {},
                    Status::error("receive from rank " + std::to_string(options.source) +
                                  ": no such rank (world " + std::to_string(world_size()) + ")")};
  std::unique_lock<std::mutex> lock(mu_);
  auto& box = boxes_[rank];
  std::deque<Message>::iterator it;
  auto ready = [&] {
    const bool source_gone = options.source != kAnySource ? boxes_[options.source].gone
                                                          : first_unreported_gone(rank) >= 0;
    return closed_ || box.gone || source_gone || match(box, options.source, &it);
  };
  if (options.timeout.count() < 0) {
    cv_.wait(lock, ready);
  } else if (!cv_.wait_for(lock, options.timeout, ready)) {
    return Received{Received::Kind::kTimeout, {}, Status::timeout("timed out")};
  }
  if (match(box, options.source, &it)) {  // deliver what arrived before a close
    Received r{Received::Kind::kMessage, std::move(*it), Status::ok()};
    box.queue.erase(it);
    return r;
  }
  if (closed_) return Received{Received::Kind::kError, {}, Status::peer_lost("transport closed")};
  if (box.gone)
    return Received{Received::Kind::kError, {}, Status::peer_lost("this rank was stopped")};
  int lost = options.source;
  if (lost == kAnySource) {
    lost = first_unreported_gone(rank);
    reported_gone_[rank][lost] = true;
  }
  return Received{Received::Kind::kError, Message{lost, {}},
                  Status::peer_lost(peer_name(lost) + " is gone")};
}

int InProcHub::first_unreported_gone(int rank) {
  for (int r = 0; r < world_size(); ++r)
    if (r != rank && boxes_[r].gone && !reported_gone_[rank][r]) return r;
  return -1;
}

void InProcHub::mark_gone(int rank) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    boxes_.at(rank).gone = true;
    boxes_.at(rank).queue.clear();
  }
  cv_.notify_all();
}

void InProcHub::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

namespace {

class InProcTransport : public Transport {
 public:
  InProcTransport(std::shared_ptr<InProcHub> hub, int rank) : hub_(std::move(hub)), rank_(rank) {}
  std::string name() const override { return "inproc"; }
  int rank() const override { return rank_; }
  int world_size() const override { return hub_->world_size(); }
  Status send(int dest, Bytes bytes) override { return hub_->deliver(rank_, dest, std::move(bytes)); }
  Received recv(const RecvOptions& options) override { return hub_->take(rank_, options); }

 private:
  std::shared_ptr<InProcHub> hub_;
  int rank_;
};

}  // namespace

std::unique_ptr<Transport> make_inproc_transport(const InProcOptions& options) {
  XFED_CHECK(options.hub != nullptr, "make_inproc_transport: no hub");
  XFED_CHECK(options.rank >= 0 && options.rank < options.hub->world_size(), "bad rank");
  return std::make_unique<InProcTransport>(options.hub, options.rank);
}

}  // namespace xfed::transport
