// The one door to MPI error codes: every MPI call of transport/mpi/ goes through
// mpi_check, which turns a failed call into a Status naming the call and the peer (with
// MPI's own error text). The communicators use MPI_ERRORS_RETURN, so an error comes back
// here instead of aborting the job.
#pragma once

#include <string>

#include "core/status.h"

namespace xfed::transport {

// rc: an MPI return code; what: the call ("MPI_Isend"); peer: the other rank, or -1.
Status mpi_check(int rc, const char* what, int peer = -1);
// For calls that release resources, where nothing is left to do on failure but say so.
void mpi_check_logged(int rc, const char* what, int peer = -1);

}  // namespace xfed::transport
