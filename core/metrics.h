// Metrics: what the coordinator reports per round and at the end, and the JSONL writer.
//
// Field names are a contract (DESIGN.md "Metrics JSONL"): scripts and checks read them.
// RoundObserver is how reports leave the coordinator (metrics file, progress bar, tests);
// observers run on the coordinator's thread, in registration order.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace xfed {

struct RoundReport {
  int64_t round = 0;
  int64_t rounds = 0;                   // planned total
  std::optional<double> test_accuracy;  // fraction; absent on rounds without evaluation
  std::optional<double> test_loss;
  double train_loss = 0;                // sample-weighted mean over answering clients
  double lr = 0;
  int64_t sampled = 0;
  int64_t clients = 0;                  // valid updates aggregated
  int64_t dropped = 0;                  // frames received but rejected (invalid or late)
  std::map<StatusCode, int64_t> dropped_kinds;  // why (corruption, stale...); not in the JSONL
  int64_t missing = 0;                  // sampled clients without a valid update
  int64_t failed = 0;                   // of those, clients that reported a failure (diverged...)
  int64_t skipped = 0;                  // 1: too few answers to aggregate; the model did not change
  // --dp: (epsilon, delta) spent after this round, and the clip norm C the round used.
  std::optional<double> epsilon, delta, dp_clip;
  // --secure-aggregation: clients that shared their keys and sent no masked input (their
  // masks removed from the survivors' shares), and the coordinator's unmasking time.
  std::optional<int64_t> secagg_dropped;
  double seconds_unmask = 0;
  int64_t bytes_up = 0, bytes_down = 0;              // real frame bytes
  int64_t bytes_up_dense = 0, bytes_down_dense = 0;  // fp32 size of the same tensors
  // bytes_down by what a client got: steps since a model it holds (or its seed), or the
  // full model; and how many of each (downloads_seeded are part of the delta bytes).
  int64_t bytes_down_delta = 0, bytes_down_full = 0;
  int64_t downloads_delta = 0, downloads_seeded = 0, downloads_full = 0;
  int64_t bytes_down_code = 0;          // TorchScript archives sent to workers (part of bytes_down)
  int64_t params = 0;
  int64_t flops = 0;                    // per forward sample
  int64_t model_version = 0;
  double seconds = 0;                   // wall time of the round, evaluation included
  double seconds_compute = 0;           // sum over clients of local training
  double seconds_encode = 0;            // coordinator + clients
  double seconds_decode = 0;            // coordinator + clients
  double seconds_aggregate = 0;
  double seconds_coordinator_codec = 0;  // the coordinator's own: downlink steps and frames, updates decoded
  double seconds_eval = 0;
  double seconds_comm = 0;              // wall not spent computing on the critical path
  double seconds_link = 0;              // modelled transfer time on --link links
  std::map<std::string, std::vector<double>> per_layer;  // e.g. "pruned", "di"
};

struct RunSummary {
  int64_t rounds = 0;
  double final_accuracy = 0;
  double final_loss = 0;
  int64_t total_bytes_up = 0, total_bytes_down = 0;
  int64_t total_bytes_up_dense = 0, total_bytes_down_dense = 0;
  int64_t total_bytes_down_delta = 0, total_bytes_down_full = 0;
  // Frames of this coordinator process outside the rounds' tasks and answers: the
  // configuration check, control and plan frames, failures, dropped frames. With up and down,
  // every byte the coordinator handed to or took from its transport.
  int64_t total_bytes_other = 0;
  double total_seconds_link = 0;
  int64_t params = 0;
  int64_t flops = 0;
  double seconds = 0;
  std::string model_checksum;
  std::optional<double> epsilon, delta;  // --dp: spent by the whole run
};

class RoundObserver {
 public:
  virtual ~RoundObserver() = default;
  virtual void on_round(const RoundReport& report) = 0;
  virtual void on_finish(const RunSummary& summary) = 0;
};

// One JSON object per line; flushed after every line so a crash loses nothing. A write
// that fails (disk full) is logged at once and kept in status(): the run reports it at the
// end rather than exiting 0 with a metrics file that stops short.
class JsonlMetricsWriter : public RoundObserver {
 public:
  // Keeps the lines of rounds 1..keep_through_round already in the file (a resume from
  // that round's checkpoint: a round written after the checkpoint is not written twice) and
  // drops the rest, summary lines included. 0: a fresh file.
  static Result<std::unique_ptr<JsonlMetricsWriter>> open(const std::string& path,
                                                          int64_t keep_through_round);
  void on_round(const RoundReport& report) override;
  void on_finish(const RunSummary& summary) override;
  const Status& status() const { return status_; }

 private:
  JsonlMetricsWriter(std::ofstream out, std::string path) : out_(std::move(out)), path_(std::move(path)) {}
  void write_line(const std::string& line);
  std::ofstream out_;
  std::string path_;
  Status status_;
};

std::string to_json_line(const RoundReport& report);
std::string to_json_line(const RunSummary& summary);

}  // namespace xfed
