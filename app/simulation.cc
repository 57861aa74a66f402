#include "app/simulation.h"

#include <ATen/Parallel.h>

#include <exception>
#include <thread>

#include "core/log.h"
#include "worker/client_state_file.h"
#include "transport/inproc/inproc_transport.h"
#include "worker/worker.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace xfed::app {

void use_single_intraop_thread() {
  at::set_num_threads(1);
#ifdef _OPENMP
  omp_set_num_threads(1);  // per-thread ICV: OpenBLAS (OpenMP build) reads it on each call
#endif
}

Result<SimulationResult> run_simulation(const RunSetup& setup, Net initial_model, int threads,
                                        const std::vector<RoundObserver*>& observers) {
  auto hub = std::make_shared<transport::InProcHub>(1 + threads);
  // Clients move between worker threads from round to round; their EF state must follow:
  // the threads share one store, saved to one file beside the coordinator's checkpoint.
  worker::WorkerOptions options;
  options.client_state = std::make_shared<worker::ClientStateStore>();
  const auto& co = setup.coordinator;
  if (!co.checkpoint_dir.empty()) {
    options.client_state_file = worker::client_state_path(co.checkpoint_dir);
    worker::restore_client_state(*options.client_state, options.client_state_file, setup.resume);
  }
  std::vector<std::thread> workers;
  for (int rank = 1; rank <= threads; ++rank) {
    workers.emplace_back([hub, rank, options, data = setup.clients] {
      use_single_intraop_thread();
      auto t = transport::make_inproc_transport({hub, rank});
      try {
        worker::Worker w(*t, data, options);
        if (auto st = w.run(); !st) {
          log_error(st.message());
          hub->mark_gone(rank);  // the coordinator learns it lost this rank
        }
      } catch (const std::exception& e) {
        log_error(transport::peer_name(rank) + " failed: " + e.what());
        hub->mark_gone(rank);
      }
    });
  }
  auto transport = transport::make_inproc_transport({hub, 0});
  Result<RunSummary> summary = Status::error("coordinator did not run");
  SimulationResult result;
  try {
    coordinator::Coordinator coord(setup.coordinator, *transport, initial_model, setup.test);
    for (auto* o : observers) coord.add_observer(o);
    summary = coord.run();
    result.model = coord.shared_model();
    result.layers = coord.original_layer_names();
    result.kept = coord.kept_units();
  } catch (...) {
    hub->close();
    for (auto& w : workers) w.join();
    throw;
  }
  hub->close();
  for (auto& w : workers) w.join();
  if (!summary) return summary.status();
  result.summary = std::move(summary).value();
  return result;
}

}  // namespace xfed::app
