// Admission of edge workers: what a worker says when it joins (its introduction: the
// clients it serves and its run identity) and what the coordinator decides.
//
// A worker process serves the clients it names (`xfed worker --client 3,7`: their partitions
// of the dataset); the coordinator learns them when the worker joins, and sends each
// client's tasks to the rank that named it. A worker on a device with its own data
// (`--data-dir` without `--client`) is one client, number rank - 1; its run identity may
// differ from the coordinator's in where its data is and how much there is (--data-dir,
// --partition, the sample count), never in the shape of a sample or the classes.
// A worker is refused (one line, sent to it and logged) when its run identity differs
// from the coordinator's (naming the first differing flag), when it names a client outside
// 0..clients-1, or a client another worker serves (a worker's clients stay its own while it
// is away: its error-feedback state is there). A worker that joins again may name other
// clients; its old ones are released. Pure; thread-safe (the transport admits on its own
// thread while the coordinator looks clients up).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/coding.h"
#include "core/status.h"

namespace xfed::app {

struct Introduction {
  std::vector<int64_t> clients;  // empty: its own data, as client rank - 1
  std::string run_identity;
  bool wants_code = false;       // started without the TorchScript archive: send it
};

// Text: "clients=3,7\n" (or "clients=own\n"), "code=wanted\n" when it wants the model's
// code, then the run identity.
Bytes encode_introduction(const Introduction& introduction);
Result<Introduction> decode_introduction(const Bytes& bytes);

class EdgeAdmission {
 public:
  EdgeAdmission(int64_t clients, std::string run_identity)
      : clients_(clients), run_identity_(std::move(run_identity)) {}
  // "" admits worker `rank` (its clients recorded), else why not.
  std::string admit(int rank, const Bytes& introduction);
  // The rank serving `client`; 0 while none does.
  int rank_of(int64_t client) const;
  // Clients no worker serves (yet).
  std::vector<int64_t> unserved() const;
  // Whether worker `rank`, as last admitted, wants the model's code.
  bool wants_code(int rank) const;

 private:
  const int64_t clients_;
  const std::string run_identity_;
  mutable std::mutex mu_;
  std::map<int64_t, int> rank_of_;
  std::map<int, bool> wants_code_;  // by rank
};

}  // namespace xfed::app
