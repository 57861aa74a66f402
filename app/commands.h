// The `xfed` commands, each a thin layer over the run assembly (app/run_setup.h,
// app/roles.h, app/run_outputs.h). They return the exit code: 0 success, 1 a run failed;
// bad usage, config or data is thrown as a UsageError (exit 2, one line) before anything runs.
#pragma once

#include <string>

#include "app/di_score.h"
#include "app/run_config.h"

namespace xfed::app {

// `xfed simulate`: coordinator + N clients in one process.
int simulate_command(const RunConfig& config);

struct EvalConfig {
  RunConfig data;
  std::string model_file;
};
// `xfed eval`: a saved model's accuracy on a test set (one JSON line).
int eval_command(const EvalConfig& config);

// `xfed di-score`: DI scores of one layer from CSV files (one JSON line).
int di_score_command(const DiScoreConfig& config);

}  // namespace xfed::app
