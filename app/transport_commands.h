// The commands that run over a transport, chosen by name: "mpi" (one run as an MPI job),
// and the edge transport's "coordinator" and "worker" (ZeroMQ/CURVE) with its "keygen".
// The one place that knows which transports this build has: a command whose transport was
// not built is a usage error that says how to get it.
#pragma once

#include <string>

#include "app/edge_config.h"
#include "app/run_config.h"

namespace xfed::app {

// command: mpi | coordinator | worker (edge is ignored by mpi). Returns the exit code.
int run_over_transport(const std::string& command, const RunConfig& run, const EdgeConfig& edge);
// Writes NAME.key and NAME.pub (the edge transport's CURVE keys).
int write_edge_keys(const std::string& name);

}  // namespace xfed::app
