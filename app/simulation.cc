#include "app/simulation.h"

#include <thread>

#include "transport/inproc/inproc_transport.h"
#include "worker/client_state_file.h"

namespace xfed::app {

Result<RunOutcome> run_simulation(const RunSetup& setup, Net initial_model, int threads,
                                  const std::vector<RoundObserver*>& observers) {
  auto hub = std::make_shared<transport::InProcHub>(1 + threads);
  // Clients move between worker threads from round to round; their EF state must follow:
  // the threads share one store, saved to one file beside the coordinator's checkpoint.
  const auto& dir = setup.coordinator.checkpoint_dir;
  const auto options = worker_options(setup, std::make_shared<worker::ClientStateStore>(),
                                      dir.empty() ? "" : worker::client_state_path(dir));
  std::vector<std::thread> workers;
  for (int rank = 1; rank <= threads; ++rank) {
    workers.emplace_back([hub, rank, &setup, options] {
      use_single_intraop_thread();
      auto t = transport::make_inproc_transport({hub, rank});
      if (!run_worker(setup.clients, *t, options)) hub->mark_gone(rank);  // the coordinator learns it
    });
  }
  const auto stop_workers = [&] {
    hub->close();
    for (auto& w : workers) w.join();
  };
  auto transport = transport::make_inproc_transport({hub, 0});
  Result<RunOutcome> outcome = Status::error("coordinator did not run");
  try {
    outcome = run_coordinator(setup, std::move(initial_model), *transport, observers);
  } catch (...) {
    stop_workers();
    throw;
  }
  stop_workers();
  return outcome;
}

}  // namespace xfed::app
