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
// time. A worker thread takes a client's state as a Lease for as long as it updates it, and
// serialize / restore / reset wait until no lease is out: a straggler past a deadline that
// is still compressing never races a sibling thread saving the store for a checkpoint. State is flat float32 in the model's layout.
// When the model is pruned, every plan is registered once (add_plan is idempotent) and a
// client's state is sliced with the same indices as the model the next time it is used —
// also after it missed several plans. State whose size still does not match is reset.
// serialize()/restore() carry the store across a checkpoint (worker/client_state_file.h): a
// resumed run must continue with the clients' residuals.
#pragma once

#include <ATen/core/Tensor.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <unordered_map>

#include "compression/pipeline.h"
#include "core/coding.h"
#include "core/state_layout.h"
#include "pruning/structure_plan.h"

namespace xfed::worker {

struct ClientState {
  at::Tensor residual;  // r
  at::Tensor velocity;  // u (momentum correction only)
  int64_t structure_version = 0;
};

class ClientStateStore {
 public:
  // The client's state in the current structure: created (zeros) on first use, sliced by
  // the plans it has not seen yet, reset if its size still does not match. get() is for one
  // thread; threads sharing the store take a lease.
  ClientState& get(int64_t client, int64_t numel, bool with_velocity);
  class Lease {
   public:
    Lease(ClientStateStore& store, ClientState& state) : store_(&store), state_(&state) {}
    Lease(Lease&& other) noexcept : store_(other.store_), state_(other.state_) { other.store_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (store_) store_->release();
    }
    ClientState& state() { return *state_; }

   private:
    ClientStateStore* store_;
    ClientState* state_;
  };
  Lease lease(int64_t client, int64_t numel, bool with_velocity);
  // Registers a structure change (plan.version = the structure it produces).
  Status add_plan(const pruning::StructurePlan& plan);
  // The newest structure registered.
  int64_t structure_version() const;
  // True for the first caller per round (the worker threads of one process share a store and
  // each is asked to save it): that caller saves, the others need not.
  bool claim_save(int64_t round);
  size_t size() const;
  // Every client's state, caught up to the newest structure, for a checkpoint; and back.
  // `restore` replaces the store's contents; malformed bytes leave it empty and say why.
  Bytes serialize();
  Status restore(ByteReader& r);
  // Forgets every client's state; the model's structure is `structure_version` (a resume
  // without the clients' file).
  void reset(int64_t structure_version);

 private:
  void catch_up(ClientState& s);
  void clear(int64_t structure_version);  // with mu_ held
  ClientState& state_of(int64_t client, int64_t numel, bool with_velocity);  // with mu_ held
  void release();
  std::unique_lock<std::mutex> lock_unleased();  // mu_, once no lease is out
  mutable std::mutex mu_;
  std::condition_variable released_;
  int leases_ = 0;
  int64_t saved_round_ = -1;
  std::unordered_map<int64_t, ClientState> states_;
  std::map<int64_t, at::Tensor> gathers_;  // structure version -> flat gather index
  int64_t structure_version_ = 0;
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
