#include "transport/mpi/mpi_transport.h"

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <list>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "transport/mpi/mpi_check.h"

namespace xfed::transport {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kFrameTag = 1;
constexpr std::chrono::microseconds kFirstSleep{16};

// How `bytes` bytes travel: `count` elements of `type` (a committed derived type when the
// frame is too large for an int count of MPI_BYTE; freed by release()).
struct WireShape {
  MPI_Datatype type = MPI_BYTE;
  int count = 0;
  void release() {
    if (type != MPI_BYTE) mpi_check_logged(MPI_Type_free(&type), "MPI_Type_free");
    type = MPI_BYTE;
  }
};

Result<WireShape> wire_shape(int64_t bytes, int64_t large) {
  if (bytes <= large) return WireShape{MPI_BYTE, static_cast<int>(bytes)};
  const int64_t blocks = bytes / large, rest = bytes % large;
  if (blocks > INT_MAX) return Status::error("a frame of " + std::to_string(bytes) + " bytes is too large");
  MPI_Datatype block, whole;
  if (auto st = mpi_check(MPI_Type_contiguous(static_cast<int>(large), MPI_BYTE, &block), "MPI_Type_contiguous"); !st)
    return st;
  int lengths[2] = {static_cast<int>(blocks), static_cast<int>(rest)};
  MPI_Aint offsets[2] = {0, static_cast<MPI_Aint>(blocks * large)};
  MPI_Datatype types[2] = {block, MPI_BYTE};
  auto st = mpi_check(MPI_Type_create_struct(rest > 0 ? 2 : 1, lengths, offsets, types, &whole),
                      "MPI_Type_create_struct");
  mpi_check_logged(MPI_Type_free(&block), "MPI_Type_free");
  if (!st) return st;
  if (st = mpi_check(MPI_Type_commit(&whole), "MPI_Type_commit"); !st) return st;
  return WireShape{whole, 1};
}

Received failed(Status st, int source = -1) {
  return Received{Received::Kind::kError, Message{source, {}}, std::move(st)};
}

class MpiTransportImpl : public MpiTransport {
 public:
  MpiTransportImpl(MPI_Comm comm, int rank, int size, const MpiOptions& options)
      : comm_(comm), rank_(rank), size_(size), options_(options) {}
  ~MpiTransportImpl() override;

  std::string name() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  Status send(int dest, Bytes bytes) override;
  Received recv(const RecvOptions& options) override;
  MpiTraffic traffic() const override;
  void close() override { closed_ = true; }

 private:
  struct PendingSend {
    Bytes bytes;
    int dest = 0;
    WireShape shape;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  // With mu_ held: retires finished sends; the first failure is kept for the next send.
  void progress_sends();
  // Polls for a frame once; a message or nothing (kTimeout), or an error.
  Received poll(int source);
  Received receive_matched(MPI_Message message, const MPI_Status& status);
  void flush();
  std::string range_error(const char* op, int peer) const {
    return std::string(op) + " rank " + std::to_string(peer) + ": no such rank (world " +
           std::to_string(size_) + ")";
  }

  MPI_Comm comm_;
  const int rank_, size_;
  const MpiOptions options_;
  std::mutex mu_;  // every MPI call
  std::list<PendingSend> pending_;
  Status send_error_;
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> frames_sent_{0}, bytes_sent_{0}, frames_received_{0}, bytes_received_{0};
};

MpiTransportImpl::~MpiTransportImpl() {
  flush();
  std::lock_guard<std::mutex> lock(mu_);
  mpi_check_logged(MPI_Comm_free(&comm_), "MPI_Comm_free");
}

void MpiTransportImpl::flush() {
  const auto deadline = Clock::now() + options_.flush_timeout;
  auto sleep = kFirstSleep;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      progress_sends();
      if (pending_.empty()) return;
      if (Clock::now() >= deadline) {
        log_warning(peer_name(rank_) + ": " + std::to_string(pending_.size()) +
                    " frame(s) not taken by their receiver before the transport closed");
        for (auto& p : pending_) {
          mpi_check_logged(MPI_Cancel(&p.request), "MPI_Cancel", p.dest);
          mpi_check_logged(MPI_Request_free(&p.request), "MPI_Request_free", p.dest);
          p.shape.release();
        }
        pending_.clear();
        return;
      }
    }
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, options_.max_poll_sleep);
  }
}

void MpiTransportImpl::progress_sends() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    auto st = mpi_check(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE), "MPI_Test (send)", it->dest);
    if (!st && send_error_) send_error_ = st;
    if (!done && st) {
      ++it;
      continue;
    }
    it->shape.release();
    it = pending_.erase(it);
  }
}

Status MpiTransportImpl::send(int dest, Bytes bytes) {
  if (dest < 0 || dest >= size_) return Status::error(range_error("send to", dest));
  if (closed_) return Status::peer_lost("send to " + peer_name(dest) + ": transport closed");
  std::lock_guard<std::mutex> lock(mu_);
  progress_sends();
  if (!send_error_) return send_error_;
  auto shape = wire_shape(static_cast<int64_t>(bytes.size()), options_.large_frame_bytes);
  if (!shape) return shape.status();
  const uint64_t size = bytes.size();
  auto& p = pending_.emplace_back(PendingSend{std::move(bytes), dest, shape.value()});
  auto st = mpi_check(MPI_Isend(p.bytes.data(), p.shape.count, p.shape.type, dest, kFrameTag, comm_, &p.request),
                      "MPI_Isend", dest);
  if (!st) {
    p.shape.release();
    pending_.pop_back();
    return st;
  }
  ++frames_sent_;
  bytes_sent_ += size;
  return Status::ok();
}

Received MpiTransportImpl::receive_matched(MPI_Message message, const MPI_Status& status) {
  const int source = status.MPI_SOURCE;
  MPI_Count count = 0;
  if (auto st = mpi_check(MPI_Get_elements_x(&status, MPI_BYTE, &count), "MPI_Get_elements_x", source); !st)
    return failed(st, source);
  Bytes bytes(static_cast<size_t>(count));
  auto shape = wire_shape(count, options_.large_frame_bytes);
  if (!shape) return failed(shape.status(), source);
  MPI_Request request;
  auto st = mpi_check(MPI_Imrecv(bytes.data(), shape.value().count, shape.value().type, &message, &request),
                      "MPI_Imrecv", source);
  for (auto sleep = kFirstSleep; st;) {  // the message is ours: wait until it is all here
    int done = 0;
    st = mpi_check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test (receive)", source);
    if (done) break;
    mu_.unlock();
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, options_.max_poll_sleep);
    mu_.lock();
    progress_sends();
  }
  shape.value().release();
  if (!st) return failed(st, source);
  ++frames_received_;
  bytes_received_ += bytes.size();
  return Received{Received::Kind::kMessage, Message{source, std::move(bytes)}, Status::ok()};
}

Received MpiTransportImpl::poll(int source) {
  std::lock_guard<std::mutex> lock(mu_);
  progress_sends();
  int found = 0;
  MPI_Message message;
  MPI_Status status;
  if (auto st = mpi_check(MPI_Improbe(source == kAnySource ? MPI_ANY_SOURCE : source, kFrameTag, comm_,
                                      &found, &message, &status),
                          "MPI_Improbe", source);
      !st)
    return failed(st, source);
  if (!found) return Received{Received::Kind::kTimeout, {}, Status::timeout("timed out")};
  return receive_matched(message, status);
}

Received MpiTransportImpl::recv(const RecvOptions& options) {
  if (options.source != kAnySource && (options.source < 0 || options.source >= size_))
    return failed(Status::error(range_error("receive from", options.source)));
  const bool forever = options.timeout.count() < 0;
  const auto deadline = Clock::now() + (forever ? std::chrono::milliseconds(0) : options.timeout);
  std::chrono::microseconds sleep{0};
  while (true) {
    if (closed_) return failed(Status::peer_lost("transport closed"));
    auto got = poll(options.source);
    if (got.kind != Received::Kind::kTimeout) return got;
    const auto now = Clock::now();
    if (!forever && now >= deadline) return got;
    auto nap = sleep;
    if (!forever) nap = std::min(nap, std::chrono::duration_cast<std::chrono::microseconds>(deadline - now));
    std::this_thread::sleep_for(nap);
    sleep = std::min(std::max(sleep * 2, kFirstSleep), options_.max_poll_sleep);
  }
}

MpiTraffic MpiTransportImpl::traffic() const {
  return MpiTraffic{frames_sent_, bytes_sent_, frames_received_, bytes_received_};
}

}  // namespace

Result<std::unique_ptr<MpiTransport>> make_mpi_transport(const MpiOptions& options) {
  if (options.large_frame_bytes < 1 || options.large_frame_bytes > INT_MAX)
    return Status::usage("MpiOptions.large_frame_bytes must be in 1 .. 2^31-1");
  MPI_Comm comm;
  if (auto st = mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, &comm), "MPI_Comm_dup"); !st) return st;
  int rank = 0, size = 0;
  auto st = mpi_check(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  if (st) st = mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  if (st) st = mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  if (!st) return st;
  return std::unique_ptr<MpiTransport>(std::make_unique<MpiTransportImpl>(comm, rank, size, options));
}

}  // namespace xfed::transport
