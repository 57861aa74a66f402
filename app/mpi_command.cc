#include "app/mpi_command.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "app/roles.h"
#include "app/run_outputs.h"
#include "app/run_setup.h"
#include "core/check.h"
#include "core/log.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "transport/mpi/mpi_session.h"
#include "transport/mpi/mpi_transport.h"
#include "worker/client_state_file.h"

namespace xfed::app {
namespace {

using transport::MpiTransport;

// A world of one rank is never a run: say why (srun without PMIx starts lone copies).
void check_world_size(int world) {
  if (world > 1) return;
  const char* tasks = std::getenv("SLURM_NTASKS");
  if (tasks && std::atoi(tasks) > 1)
    throw UsageError(std::string("SLURM_NTASKS is ") + tasks +
                     " but this MPI world has 1 rank: srun started separate copies of xfed "
                     "(use `srun --mpi=pmix`, or mpirun inside the allocation)");
  throw UsageError("xfed mpi needs at least 2 ranks: rank 0 coordinates, the others train "
                   "(mpirun -np 3 xfed mpi ...)");
}

void check_ranks_for_clients(int world, const RunConfig& c) {
  const int workers = world - 1;
  if (workers > c.clients)
    throw UsageError("xfed mpi: " + std::to_string(workers) + " worker ranks for --clients " +
                     std::to_string(c.clients) + ": every worker rank needs a client (start at most " +
                     std::to_string(c.clients + 1) + " ranks, or raise --clients)");
}

// A worker rank that cannot run (its data, its settings): it answers the coordinator's
// configuration check with the reason, so rank 0 reports it and stops everyone; bounded.
void refuse_run(MpiTransport& t, const std::string& why) {
  using protocol::ControlCommand;
  const auto deadline = std::chrono::steady_clock::now() + coordinator::kConfigCheckTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto got = t.recv({0, left});
    if (!got.ok()) return;
    auto frame = protocol::decode_frame(std::move(got.message.bytes), protocol::kDefaultMaxFrameBytes);
    if (!frame || frame.value().header.kind != protocol::FrameKind::kControl) continue;
    auto r = frame.value().payload_reader();
    protocol::ControlMessage control;
    if (!control.read(r) || control.command == ControlCommand::kShutdown) return;
    if (control.command == ControlCommand::kCheckConfig) {
      const protocol::ControlMessage reply{ControlCommand::kConfigChecked, why};
      if (!t.send(0, reply.frame(0, static_cast<uint32_t>(t.rank())))) return;
    }
  }
}

// Rank 0 could not start: every worker is told to stop before round 1.
void stop_workers(MpiTransport& t) {
  const auto stop = protocol::ControlMessage{protocol::ControlCommand::kShutdown, {}}.frame(0, 0);
  for (int r = 1; r < t.world_size(); ++r)
    if (auto st = t.send(r, stop); !st) log_warning(st.message());
}

void print_traffic(const MpiTransport& t) {
  const auto m = t.traffic();
  std::printf("mpi traffic at the coordinator: sent %llu frames (%llu bytes), received %llu frames (%llu bytes)\n",
              static_cast<unsigned long long>(m.frames_sent), static_cast<unsigned long long>(m.bytes_sent),
              static_cast<unsigned long long>(m.frames_received),
              static_cast<unsigned long long>(m.bytes_received));
}

int coordinate(const RunConfig& c, RunSetup& setup, MpiTransport& t) {
  RunOutputs outputs(c, setup);
  const auto initial = make_initial_model(setup.spec, c.seed);
  const int threads = c.threads > 0 ? static_cast<int>(c.threads) : 1;
  if (!c.quiet)
    std::printf("xfed mpi: %s, %s (%lld params), %lld clients (%s), %d worker ranks x %d threads\n",
                c.dataset.c_str(), c.model.c_str(), static_cast<long long>(initial->num_params()),
                static_cast<long long>(c.clients), c.partition.c_str(), t.world_size() - 1, threads);
  const int code = outputs.finish(run_coordinator(setup, initial, t, outputs.observers()));
  if (!c.quiet) print_traffic(t);
  return code;
}

int serve(const RunConfig& c, const RunSetup& setup, MpiTransport& t) {
  const auto& dir = setup.coordinator.checkpoint_dir;
  auto options = worker_options(setup, std::make_shared<worker::ClientStateStore>(),
                                dir.empty() ? "" : worker::client_state_path(dir, t.rank()));
  options.threads = c.threads > 0 ? static_cast<int>(c.threads) : 1;
  const auto st = run_worker(setup.clients, t, options);
  if (st) return 0;
  return st.code() == StatusCode::kUsage ? 2 : 1;  // the coordinator has said why
}

}  // namespace

int mpi_command(RunConfig c) {
  set_log_verbose(c.verbose);
  use_single_intraop_thread();
  auto session = transport::MpiSession::start().value_or_throw();
  const int world = session->world_size(), rank = session->world_rank();
  check_world_size(world);
  auto transport = transport::make_mpi_transport().value_or_throw();
  c.transport = "mpi, " + std::to_string(world) + " ranks";
  if (rank != 0) {
    c.quiet = true;
    c.metrics.clear();
    c.save_model.clear();
  }
  RunSetup setup;
  try {
    check_ranks_for_clients(world, c);
    if (rank == 0) check_output_paths(c);
    setup = make_run_setup(c);
    setup.coordinator.home_ranks = coordinator::home_ranks(c.clients, setup.coordinator.client_sizes,
                                                           world - 1, c.seed);
  } catch (const std::exception& e) {
    if (rank == 0) {
      stop_workers(*transport);
      throw;
    }
    refuse_run(*transport, transport::peer_name(rank) + " could not start: " + one_line(e));
    return 2;
  }
  return rank == 0 ? coordinate(c, setup, *transport) : serve(c, setup, *transport);
}

}  // namespace xfed::app
