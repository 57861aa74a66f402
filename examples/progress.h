// Progress output of a run: on a terminal a single line redrawn in place (bar, round,
// accuracy, bytes, ETA); otherwise one plain line per round, suitable for logs.
#pragma once

#include <chrono>
#include <cstdio>

#include "core/metrics.h"

namespace xfed::cli {

class ProgressPrinter : public RoundObserver {
 public:
  explicit ProgressPrinter(std::FILE* out);
  void on_round(const RoundReport& report) override;
  void on_finish(const RunSummary& summary) override;

 private:
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  int64_t first_round_ = -1;
  int64_t bytes_up_ = 0, bytes_down_ = 0;
  double last_accuracy_ = -1;
};

// "12.3 MB"
std::string human_bytes(double bytes);

}  // namespace xfed::cli
