// Transport: how frames move between the parties of a run. Rank 0 is the coordinator,
// ranks 1..world_size-1 are workers (each serving one or more logical clients).
//
// The algorithm (coordinator/, worker/) sees only this interface; backends live in
// transport/<name>/ with the same file names and one factory each (inproc: threads in one
// process; mpi; zmq). Messages between a pair of ranks arrive in the order they were sent.
//
// Failures are values: recv returns a timeout Status when nothing arrived in time and an
// error Status naming the peer when a peer is gone or the transport is closed. send to a
// rank that is gone is an error Status, never a crash. A kAnySource receiver learns of
// each peer that went away once, as a kError whose message.source is that peer. An operation a backend does not
// offer fails with "transport '<name>' does not support <op>".
// Peers that come back: on a transport whose workers may leave and return (zmq), joins(r)
// counts how often worker r has joined (0: not yet); a coordinator that sees the count move
// knows the worker is back, holding no model it can rely on. A report of a loss still queued
// when the worker returns is withdrawn, so "lost" is never read after "back".
//
// Thread-safety: one thread may send while another receives on the same Transport; two
// concurrent recv calls are not supported.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::transport {

constexpr int kAnySource = -1;

struct Message {
  int source = -1;
  Bytes bytes;
};

struct RecvOptions {
  int source = kAnySource;
  // Negative: wait forever.
  std::chrono::milliseconds timeout{-1};
};

// recv's result: a message, or a timeout, or an error.
struct Received {
  enum class Kind { kMessage, kTimeout, kError } kind = Kind::kError;
  Message message;
  Status status;  // why, for kTimeout / kError
  bool ok() const { return kind == Kind::kMessage; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string name() const = 0;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual Status send(int dest, Bytes bytes) = 0;
  virtual Received recv(const RecvOptions& options) = 0;
  // How many times `rank` has joined; backends whose peers never come back: 1.
  virtual uint64_t joins(int rank) const {
    (void)rank;
    return 1;
  }
};

// Human name of a rank for messages: "coordinator", "worker 3".
std::string peer_name(int rank);

}  // namespace xfed::transport
