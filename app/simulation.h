// The in-process federation behind `xfed simulate`: one coordinator on the calling thread
// and `threads` worker ranks on their own threads, joined by an InProcHub. Each worker
// thread runs LibTorch with one intra-op thread, so T workers use T cores. The roles are
// the same as under any transport (app/roles.h).
//
// A worker thread that dies (exception) is reported to the coordinator as a lost rank; the
// run continues with the others. Used by the CLI, the tests, the benchmarks and examples/.
#pragma once

#include <vector>

#include "app/roles.h"
#include "core/metrics.h"

namespace xfed::app {

Result<RunOutcome> run_simulation(const RunSetup& setup, Net initial_model, int threads,
                                  const std::vector<RoundObserver*>& observers);

}  // namespace xfed::app
