// Progress output of a run: on a terminal a single line redrawn in place (bar, round,
// accuracy, bytes, ETA); otherwise one plain line per round, suitable for logs. A pruning
// round adds a permanent line: kept units per layer and the new size.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "core/metrics.h"

namespace xfed::app {

class ProgressPrinter : public RoundObserver {
 public:
  // original_params: the unpruned model's size, for the pruning lines. may_redraw false:
  // plain lines even on a terminal (an MPI launcher gives its ranks a pseudo-terminal
  // whatever its own output is, a redirected log included).
  ProgressPrinter(std::FILE* out, int64_t original_params, bool may_redraw = true);
  void on_round(const RoundReport& report) override;
  void on_finish(const RunSummary& summary) override;

 private:
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  int64_t first_round_ = -1;
  int64_t bytes_up_ = 0, bytes_down_ = 0;
  double last_accuracy_ = -1;
  int64_t original_params_;
  bool line_open_ = false;  // the terminal line is being redrawn in place (no newline yet)

  void print_pruning_step(const RoundReport& report);
};

// "12.3 MB"
std::string human_bytes(double bytes);

}  // namespace xfed::app
