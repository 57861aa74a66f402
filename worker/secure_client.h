// The client side of secure aggregation (#19, secagg/session.h) inside a worker. A task with
// `secagg` trains as usual; then, instead of an update frame, the client
//   - takes its update (plus its error-feedback residual) at the round's shared positions
//     (protocol::secagg_support), clips them to [-R, R] and encodes them as fixed-point
//     integers with stochastic rounding; what clipping and rounding left out stays in its
//     residual (error feedback), as a compressed uplink's would;
//   - answers with its key advert (kSecAggKeys, after the update's metadata),
// (a stats task with `secagg` encodes its statistics over their bounds instead, and answers the same way)
// and keeps its session until the round's later steps come: the relayed adverts (answered
// with its sealed shares), the shares addressed to it (answered with its masked input) and
// the unmask request (answered with the shares it may hand over; the session ends). A step
// that does not fit — another round, a client with no session, a malformed payload, a
// request an honest client refuses — is an error, which the worker answers with a failure
// frame naming it. Thread-safe: tasks train on the worker's pool while steps arrive.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "core/state_layout.h"
#include "core/status.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "secagg/session.h"
#include "worker/error_feedback.h"

namespace xfed::worker {

class SecureClients {
 public:
  // After training: `delta` (+ the residual in `state` when `error_feedback`) encoded at the
  // round's positions, the residual updated; the advert's payload (`meta`, then the advert).
  Result<Bytes> begin(int64_t client, uint32_t round, const protocol::TrainTask& task, const at::Tensor& delta,
                      const StateLayout& layout, const protocol::UpdateMeta& meta, ClientState& state);
  // A stats task's: `values` the statistics over their bounds (pruning/masked_stats.h), in [-1, 1].
  Result<Bytes> begin_statistics(int64_t client, uint32_t round, const protocol::TrainTask& task,
                                 const std::vector<double>& values, const protocol::UpdateMeta& meta);
  // The answer's payload to a step frame (kSecAggKeys, kSecAggShares or kSecAggUnmask down).
  Result<Bytes> answer(const protocol::Frame& frame);
  size_t sessions() const;

 private:
  struct Pending {
    uint32_t round = 0;
    std::shared_ptr<secagg::ClientSession> session;
    std::vector<uint32_t> encoded;
    int ring_bits = 32;
  };
  Result<Pending> pending(int64_t client, uint32_t round);
  // Opens the client's session for `encoded` values: the advert's payload (`meta`, then the advert).
  Bytes open(int64_t client, uint32_t round, const secagg::RoundParams& params, std::vector<uint32_t> encoded,
             const protocol::UpdateMeta& meta);

  mutable std::mutex mu_;
  std::map<int64_t, Pending> pending_;  // by client: its round's session
};

}  // namespace xfed::worker
