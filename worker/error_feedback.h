// Error feedback (EF) with optional DGC momentum correction, per logical client.
//
// Each round a client compresses v = r + x and keeps what was not sent:
//     x = Delta                         (plain EF), or
//     u = m u + Delta;  x = u           (momentum correction, Lin et al. 2018 "DGC")
//     v = r + x;  send C(v);  r = v - decode(C(v))
//     u[i] = 0 where i was sent         (factor masking)
// so nothing is lost, only delayed: sum(sent) + r_final = sum(inputs) (+ momentum terms).
//
// ClientStateStore holds r (and u) for every client that has trained, keyed by client id,
// shared by the worker threads of one process; a client trains on at most one thread at a
// time, so the entry itself needs no lock. State is flat float32 in the model's layout and
// is dropped (with a warning) if the layout changes.
#pragma once

#include <ATen/core/Tensor.h>

#include <mutex>
#include <unordered_map>

#include "compression/pipeline.h"
#include "core/state_layout.h"

namespace xfed::worker {

struct ClientState {
  at::Tensor residual;  // r
  at::Tensor velocity;  // u (momentum correction only)
};

class ClientStateStore {
 public:
  // The client's state, created (zeros) on first use or when its size no longer matches.
  ClientState& get(int64_t client, int64_t numel, bool with_velocity);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<int64_t, ClientState> states_;
};

struct CompressedUpdate {
  Bytes payload;
  at::Tensor sent;  // what the coordinator will decode
};

// Encodes `delta` for `client` with error feedback (if `pipeline` is lossy and `enabled`)
// and momentum correction (if momentum > 0). Updates the client's state.
Result<CompressedUpdate> compress_update(const at::Tensor& delta, const StateLayout& layout,
                                         const compression::Pipeline& pipeline, uint64_t seed,
                                         bool enabled, double momentum, ClientState& state);

}  // namespace xfed::worker
