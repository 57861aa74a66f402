// RoundCollection: one collection phase of a round (training or stats), from the tasks
// sent to the round's close. It owns what is pending — which client is expected from which
// rank — and what came back: updates, statistics, failures, bytes and per-rank busy time,
// and tallies them into the round's report. The coordinator decodes frames and hands it
// the results; the collection never touches the transport or the model.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/link_model.h"
#include "core/metrics.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "pruning/evidence.h"

namespace xfed::coordinator {

class RoundCollection {
 public:
  RoundCollection(int64_t round, protocol::FrameKind expected, RoundReport& report)
      : round_(round), expected_(expected), report_(report) {}

  int64_t round() const { return round_; }
  protocol::FrameKind expected() const { return expected_; }
  RoundReport& report() { return report_; }

  // A task went out to `client` on `rank` (`bytes`: its frame).
  void sent(int64_t client, int rank, int64_t bytes);
  bool waiting() const { return !rank_of_.empty(); }
  size_t still_expected() const { return rank_of_.size(); }
  // The rank a client's answer is expected from, if it is still expected.
  std::optional<int> rank_of(int64_t client) const;
  // The ranks whose clients did not answer (their view of the model is unknown).
  std::vector<int> silent_ranks() const;

  // Answers: each removes the client from what is pending.
  // `decode_seconds`: the coordinator's own decoding; `dense_bytes`: the update uncompressed.
  void add_update(ClientUpdate update, const protocol::UpdateMeta& meta, int64_t frame_bytes,
                  double decode_seconds, int64_t dense_bytes);
  void add_stats(int64_t client, pruning::Evidence evidence, const protocol::UpdateMeta& meta,
                 int64_t frame_bytes);
  // A secure-aggregation step's answer (an advert, shares, a masked input, an unmask reply):
  // bytes and the client's work; its content stays with the SecureRound.
  void add_step(int64_t client, int64_t frame_bytes, double client_seconds);
  void add_failure(int64_t client, protocol::TaskFailure failure);
  // The client's answer came and was unusable (counted as a dropped frame): missing.
  void abandon(int64_t client);
  // A rank is gone: its pending clients are missing.
  void lose_rank(int rank);
  // At the close: those still pending are counted missing (and stay listed as pending).
  void count_missing();

  std::vector<ClientUpdate>& updates() { return updates_; }
  std::map<int64_t, pruning::Evidence>& stats() { return stats_; }  // client order
  size_t answered() const { return updates_.size() + stats_.size() + steps_; }
  // A phase in which every client that got a task failed: the error that ends the run.
  Status all_failed_error() const;
  // Longest per-rank client work (the round's critical path).
  double critical_path_seconds() const;
  // Modelled link time of the phase: its slowest client.
  double link_seconds(const std::vector<Link>& links) const;

 private:
  int take(int64_t client);  // its rank; the client is no longer pending

  int64_t round_;
  protocol::FrameKind expected_;
  RoundReport& report_;
  std::map<int64_t, int> rank_of_;         // clients still expected -> their rank
  size_t dispatched_ = 0;                  // clients that were sent a task
  std::map<int, double> busy_;             // rank -> seconds of client work
  std::map<int64_t, int64_t> bytes_down_;  // client -> bytes of its task frame
  std::map<int64_t, int64_t> bytes_up_;    // client -> bytes of its valid reply
  std::map<int64_t, protocol::TaskFailure> failed_;
  std::vector<ClientUpdate> updates_;
  std::map<int64_t, pruning::Evidence> stats_;  // summed in client order once the phase closes
  size_t steps_ = 0;                            // secure-aggregation answers
};

}  // namespace xfed::coordinator
