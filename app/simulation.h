// The in-process federation behind `xfed simulate`: one coordinator on the calling thread
// and `threads` worker ranks on their own threads, joined by an InProcHub. Each worker
// thread runs LibTorch with one intra-op thread, so T workers use T cores.
//
// A worker thread that dies (exception) is reported to the coordinator as a lost rank; the
// run continues with the others. Used by the CLI, the tests and the benchmarks.
#pragma once

#include <vector>

#include "core/metrics.h"
#include "app/run_setup.h"

namespace xfed::app {

struct SimulationResult {
  RunSummary summary;
  Net model;  // final global model
  std::vector<std::string> layers;          // prunable layers of the original model
  std::vector<std::vector<int64_t>> kept;   // per layer, kept units (original numbering)
};

Result<SimulationResult> run_simulation(const RunSetup& setup, Net initial_model, int threads,
                                        const std::vector<RoundObserver*>& observers);

// Makes LibTorch (and OpenMP BLAS) use one thread on the calling thread.
void use_single_intraop_thread();

}  // namespace xfed::app
