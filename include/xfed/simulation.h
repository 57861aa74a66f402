// A federation in this process, as `xfed simulate` runs it: a coordinator and worker
// threads joined in memory. RunConfig has every flag of `xfed simulate` as a field (the
// same texts as on the command line, e.g. compress = "topk:0.01,qsgd:4,zstd"; the local
// training knobs, --lr and the like, in RunConfig::train);
// make_run_setup checks it (a UsageError naming the flag), run_simulation runs it.
#pragma once

#include "app/progress.h"
#include "app/run_config.h"
#include "app/run_setup.h"
#include "app/simulation.h"

namespace xfed {

using app::make_run_setup;
using app::ProgressPrinter;
using app::run_simulation;
using app::RunConfig;
using app::RunSetup;
// Runs LibTorch with one intra-op thread per worker thread (call before run_simulation).
using app::use_single_intraop_thread;

}  // namespace xfed
