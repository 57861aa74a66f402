#include "app/roles.h"

#include <ATen/Parallel.h>

#include <exception>

#include "coordinator/coordinator.h"
#include "core/check.h"
#include "core/log.h"
#include "core/privacy_noise.h"
#include "worker/client_state_file.h"

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

Result<RunOutcome> run_coordinator(const RunSetup& setup, Net initial_model,
                                   transport::Transport& transport,
                                   const std::vector<RoundObserver*>& observers) {
  coordinator::Coordinator coord(setup.coordinator, transport, std::move(initial_model), setup.test);
  for (auto* o : observers) coord.add_observer(o);
  auto summary = coord.run();
  if (!summary) return summary.status();
  return RunOutcome{std::move(summary).value(), coord.shared_model(), coord.original_layer_names(),
                    coord.kept_units()};
}

worker::WorkerOptions worker_options(const RunSetup& setup, std::shared_ptr<worker::ClientStateStore> store,
                                     const std::string& client_state_file) {
  worker::WorkerOptions options;
  options.client_state = std::move(store);
  options.client_state_file = client_state_file;
  options.run_identity = setup.coordinator.run_identity;
  options.thread_init = use_single_intraop_thread;
  // mode=distributed: the clip and the client's share of the noise come with each task
  // (protocol::SecAggTask); the secret is this process's.
  if (const auto& dp = setup.coordinator.dp; dp && dp->clients_noise())
    options.local_privacy = LocalPrivacy{dp->clip, dp->local ? dp->noise : 0.0,
                                         dp->seed ? secret_of_seed(*dp->seed) : random_secret()};
  if (!client_state_file.empty()) {
    if (auto st = worker::restore_client_state(*options.client_state, client_state_file, setup.resume); !st)
      options.resume_failure = st.message();
    options.resumed_from = setup.resume;
  }
  return options;
}

Status run_worker(std::shared_ptr<const ClientDataSource> data, transport::Transport& transport,
                  const worker::WorkerOptions& options) {
  const std::string me = transport::peer_name(transport.rank());
  try {
    worker::Worker w(transport, std::move(data), options);
    auto st = w.run();
    if (!st && st.code() != StatusCode::kUsage) log_error(st.message());  // usage: the coordinator says it
    return st;
  } catch (const std::exception& e) {
    const std::string why = me + " failed: " + one_line(e);
    log_error(why);
    return Status::error(why);
  }
}

}  // namespace xfed::app
