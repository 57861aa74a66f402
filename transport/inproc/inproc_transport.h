// In-process transport: ranks are threads of one process, joined by a shared Hub.
//
// A real backend, used by `xfed simulate` and by every multi-rank test. The Hub owns one
// mailbox (FIFO + condition variable) per rank; send copies nothing but moves the bytes
// into the destination mailbox. Failure injection: mark_gone(rank) makes sends to that
// rank fail and wakes a receiver blocked on it; close() ends every blocked recv.
// Thread-safe: any number of threads may use their own rank's Transport concurrently.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "transport/transport.h"

namespace xfed::transport {

class InProcHub {
 public:
  explicit InProcHub(int world_size);
  int world_size() const { return static_cast<int>(boxes_.size()); }

  Status deliver(int source, int dest, Bytes bytes);
  Received take(int rank, const RecvOptions& options);
  // The rank stops existing: sends to it fail, its own recv fails.
  void mark_gone(int rank);
  void close();

 private:
  struct Mailbox {
    std::deque<Message> queue;
    bool gone = false;
  };
  static bool match(Mailbox& box, int source, std::deque<Message>::iterator* it);
  // A rank that went away since `rank` last heard of it (so kAnySource receivers learn it).
  int first_unreported_gone(int rank);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Mailbox> boxes_;
  std::vector<std::vector<bool>> reported_gone_;  // [receiver][gone rank]
  bool closed_ = false;
};

struct InProcOptions {
  std::shared_ptr<InProcHub> hub;
  int rank = 0;
};

std::unique_ptr<Transport> make_inproc_transport(const InProcOptions& options);

}  // namespace xfed::transport
