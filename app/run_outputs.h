// What a coordinating command writes besides checkpoints, the same for `simulate` and every
// command that runs the coordinator role: per-round metrics (--metrics, JSONL, trimmed to
// the checkpoint's round on --resume), progress on stdout (unless --quiet), and at the end
// the model file with its JSON summary (--save-model).
#pragma once

#include <memory>
#include <vector>

#include "app/progress.h"
#include "app/roles.h"
#include "app/run_config.h"
#include "core/metrics.h"

namespace xfed::app {

class RunOutputs {
 public:
  // Opens the metrics file (a UsageError naming --metrics if it cannot be).
  RunOutputs(const RunConfig& config, const RunSetup& setup);
  std::vector<RoundObserver*> observers();
  // After the run: the exit code (0; 2 for a usage error such as a worker with other
  // settings; 1 for any other error), the error logged.
  int finish(const Result<RunOutcome>& outcome);

 private:
  const RunConfig& config_;
  std::unique_ptr<JsonlMetricsWriter> metrics_;
  ProgressPrinter progress_;
};

// The model file, plus FILE.json: kept units per layer (original numbering) and sizes.
Status save_model_with_summary(const std::string& path, const RunOutcome& outcome);

}  // namespace xfed::app
