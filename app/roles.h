// The assembly of a run, whatever carries its frames: the coordinator role (rank 0) and the
// worker role (every other rank), each built from the same RunSetup over a Transport. The
// commands are thin layers over these two: `simulate` runs both on threads of one process
// joined by the in-process transport (app/simulation.h); a multi-process transport runs
// one role per process with the same calls.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/run_setup.h"
#include "core/metrics.h"
#include "transport/transport.h"
#include "worker/worker.h"

namespace xfed::app {

// What a finished run leaves: its summary and the final model with its pruning record.
struct RunOutcome {
  RunSummary summary;
  Net model;                                // final global model
  std::vector<std::string> layers;          // prunable layers of the original model
  std::vector<std::vector<int64_t>> kept;   // per layer, kept units (original numbering)
};

// Rank 0: drives every round to the end, then stops the workers.
Result<RunOutcome> run_coordinator(const RunSetup& setup, Net initial_model,
                                   transport::Transport& transport,
                                   const std::vector<RoundObserver*>& observers);

// A worker's options: its clients' state in `store` (shared by the workers of one process),
// saved to and, on --resume, restored from `client_state_file` (none without a checkpoint dir).
worker::WorkerOptions worker_options(const RunSetup& setup, std::shared_ptr<worker::ClientStateStore> store,
                                     const std::string& client_state_file);

// Ranks 1..N-1: serves tasks until the coordinator says stop, training the clients of `data`
// (usually setup.clients; an edge device's own data). An error (the coordinator is gone, an
// exception) is logged and returned; the caller tells the transport this rank is gone.
Status run_worker(std::shared_ptr<const ClientDataSource> data, transport::Transport& transport,
                  const worker::WorkerOptions& options);

// Makes LibTorch (and OpenMP BLAS) use one thread on the calling thread.
void use_single_intraop_thread();

}  // namespace xfed::app
