#include "app/transport_commands.h"

#include "core/check.h"
#include "xfed/config.h"
#if XFED_HAVE_MPI
#include "app/mpi_command.h"
#endif
#if XFED_HAVE_ZMQ
#include "app/edge_command.h"
#include "app/keygen_command.h"
#endif

namespace xfed::app {
namespace {

[[maybe_unused]] const char* const kNoMpi =
    "this xfed was built without MPI (install libopenmpi-dev and rebuild: ./launch/setup.sh)";
[[maybe_unused]] const char* const kNoZmq =
    "this xfed was built without ZeroMQ (install libzmq3-dev cppzmq-dev and rebuild)";

}  // namespace

int run_over_transport(const std::string& command, const RunConfig& run, const EdgeConfig& edge) {
  if (command == "mpi") {
#if XFED_HAVE_MPI
    return mpi_command(run);
#else
    throw UsageError(kNoMpi);
#endif
  }
  if (command == "coordinator" || command == "worker") {
#if XFED_HAVE_ZMQ
    return command == "coordinator" ? coordinator_command(run, edge) : worker_command(run, edge);
#else
    throw UsageError(kNoZmq);
#endif
  }
  (void)run, (void)edge;  // used only by the transports this build has
  throw UsageError("no transport command '" + command + "' (mpi, coordinator or worker)");
}

int write_edge_keys(const std::string& name) {
#if XFED_HAVE_ZMQ
  return keygen_command(name);
#else
  (void)name;
  throw UsageError(kNoZmq);
#endif
}

}  // namespace xfed::app
