// Broadcaster: the downlink (protocol step 2). It owns the model *view* — the state every
// client trains from — and knows which version each worker rank and each client holds.
//
// Each round the view advances towards the exact global model:
//   lossless --downlink (none, zstd): view = global, sent as a full model;
//   lossy --downlink: d = global - view, view += decode(C(d)); clients holding the previous
//     view get the compressed delta (frame kind delta), others the full view.
// What C did not send stays in global - view and goes out in later rounds (server-side
// error feedback). A client gets a delta only if both it (for honest per-device byte
// counts) and its worker rank (which applies it) hold the base version; otherwise the full
// view, losslessly. Clients report the CRC of the view they trained from, so drift is
// detected, never silent. Not thread-safe; owned by the coordinator.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "compression/pipeline.h"
#include "core/state_layout.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace xfed::coordinator {

class Broadcaster {
 public:
  Broadcaster(compression::Pipeline downlink, int world_size, int64_t clients);

  void reset(const at::Tensor& view, int64_t version);
  // Moves the view towards `global`; call once per round before frame_for.
  void advance(const at::Tensor& global, const StateLayout& layout, uint64_t seed);
  // The frame that brings `client` on `rank` to the current view, with its training task.
  Bytes frame_for(int64_t client, int rank, uint32_t round, const protocol::TrainTask& task,
                  const std::string& spec_json, const StateLayout& layout);
  void mark_sent(int64_t client, int rank);
  // The rank's view is unknown (lost, or a task of it went missing): send it a full model.
  void forget_rank(int rank);

  const at::Tensor& view() const { return view_; }
  int64_t version() const { return version_; }
  uint32_t crc() const { return crc_; }
  const compression::Pipeline& downlink() const { return downlink_; }

 private:
  bool can_send_delta(int64_t client, int rank) const;
  const Bytes& full_state(const StateLayout& layout);

  compression::Pipeline downlink_;
  at::Tensor view_;
  int64_t version_ = 0;
  uint32_t crc_ = 0;
  Bytes delta_state_;      // encoded delta from version_ - 1 to version_ (lossy only)
  Bytes full_state_;       // encoded full view; built on first use each round
  std::vector<int64_t> rank_version_;    // -1: unknown
  std::vector<int64_t> client_version_;  // -1: never received a model
};

}  // namespace xfed::coordinator
