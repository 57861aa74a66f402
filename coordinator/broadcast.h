// Broadcaster: the downlink (protocol step 2). It owns the model *view* — the state every
// client trains from — and knows which version each worker rank and each client holds.
//
// Each round the view advances towards the exact global model:
//   lossless --downlink (none, zstd): view = global, sent as a full model;
//   lossy --downlink: d = global - view, view += decode(C(d)), and the encoded step is kept.
// What C did not send stays in global - view and goes out in later rounds (server-side
// error feedback; `nonzero` sends a round's sparse aggregate as it is, up to rounding).
//
// A client gets the smallest of:
//   delta   the kept steps since the version it (and its worker rank, which applies them)
//           holds, applied one after the other: bit for bit the coordinator's additions;
//   seeded  the initial model as its seed (the client builds it and checks its CRC), then
//           the steps since — while the view's structure is the initial one;
//   full    the view, losslessly.
// Steps are kept while together smaller than a dense model: an older base gets the full view.
// Clients report the CRC of the view they trained from, so drift is detected, never silent.
// Not thread-safe; owned by the coordinator.
#pragma once

#include <ATen/core/Tensor.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "compression/pipeline.h"
#include "core/metrics.h"
#include "core/state_layout.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace xfed::coordinator {

enum class DownloadKind { kDelta, kSeeded, kFull };
// Adds a download of `bytes` to the round's split by kind (bytes_down_delta / _full, counts).
void count_download(DownloadKind kind, int64_t bytes, RoundReport* report);

class Broadcaster {
 public:
  Broadcaster(compression::Pipeline downlink, int world_size, int64_t clients);

  // A new view (start, resume, pruning): steps, seed and every party's version are forgotten.
  void reset(const at::Tensor& view, int64_t version);
  // A pruning plan cut the model down: `view` is the old view sliced and refitted, one
  // version on. Steps and seed are forgotten; ranks that held the old view hold the new one
  // (a worker cuts its view with the plan) unless forget_rank says otherwise, and so does
  // every client that held any view.
  void restructure(const at::Tensor& view);
  // The view is the model make_initial_model(spec, seed) builds (the caller checked its CRC).
  void set_seed_start(uint64_t seed);
  // Moves the view towards `global`; call once per round before frame_for.
  void advance(const at::Tensor& global, const StateLayout& layout, uint64_t seed);
  // The frame that brings `client` on `rank` to the current view, with its training task;
  // `kind` (may be null) receives which form it took.
  Bytes frame_for(int64_t client, int rank, uint32_t round, const protocol::TrainTask& task,
                  const std::string& spec_json, const StateLayout& layout,
                  DownloadKind* kind = nullptr);
  void mark_sent(int64_t client, int rank);
  // The rank's view is unknown (lost, or a task of it went missing): send it a full model.
  void forget_rank(int rank);
  // A task on `rank` failed: its view is unknown, and if it was started from the seed, that
  // rank builds another model from it (another CPU or LibTorch): it gets full models from now.
  void task_failed(int rank);

  const at::Tensor& view() const { return view_; }
  int64_t version() const { return version_; }
  uint32_t crc() const { return crc_; }
  const compression::Pipeline& downlink() const { return downlink_; }

 private:
  struct Step {
    int64_t version;  // the step leads from version - 1 to this version
    Bytes encoded;
  };
  struct SeedStart {
    uint64_t seed;
    int64_t version;  // the view at this version is the seeded model
    uint32_t crc;
  };

  // Oldest version the kept steps lead on from.
  int64_t oldest_base() const { return version_ - static_cast<int64_t>(steps_.size()); }
  size_t steps_bytes_since(int64_t base) const;
  void append_steps_since(int64_t base, ByteWriter& w) const;
  std::optional<int64_t> delta_base(int64_t client, int rank) const;
  bool can_seed(int rank) const;
  DownloadKind choose(int64_t client, int rank, size_t full_bytes, int64_t* base) const;
  void keep_step(Bytes encoded, size_t limit);
  const Bytes& full_state(const StateLayout& layout);

  compression::Pipeline downlink_;
  at::Tensor view_;
  int64_t version_ = 0;
  uint32_t crc_ = 0;
  std::deque<Step> steps_;  // consecutive, the newest leads to version_ (lossy only)
  size_t steps_bytes_ = 0;
  std::optional<SeedStart> seed_;
  Bytes full_state_;        // encoded full view; built on first use each round
  std::vector<int64_t> rank_version_;    // -1: unknown
  std::vector<char> rank_seeded_;        // the rank's view came from a seeded frame
  std::vector<char> rank_no_seed_;       // a seeded frame failed there once
  std::vector<int64_t> client_version_;  // -1: never received a model
};

}  // namespace xfed::coordinator
