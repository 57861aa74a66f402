// Where a run writes (--metrics, --save-model and its .json, --checkpoint-dir), checked before
// anything runs, so a mistake costs a second (exit 2), not a run or a file: every output can
// be written, and no two of them are the same file (nor a file the checkpoint folder holds).
#pragma once

#include "app/run_config.h"

namespace xfed::app {

// Throws UsageError naming the flag(s).
void check_output_paths(const RunConfig& config);

}  // namespace xfed::app
