#include "transport/mpi/mpi_session.h"

#include <mpi.h>

#include "transport/mpi/mpi_check.h"

namespace xfed::transport {

Result<std::unique_ptr<MpiSession>> MpiSession::start() {
  int provided = 0;
  if (auto st = mpi_check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided),
                          "MPI_Init_thread");
      !st)
    return st;
  if (provided < MPI_THREAD_SERIALIZED) {
    mpi_check_logged(MPI_Finalize(), "MPI_Finalize");
    return Status::error("this MPI library gives thread level " + std::to_string(provided) +
                         "; xfed needs MPI_THREAD_SERIALIZED");
  }
  if (auto st = mpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
                          "MPI_Comm_set_errhandler");
      !st)
    return st;
  int rank = 0, size = 0;
  if (auto st = mpi_check(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank"); !st) return st;
  if (auto st = mpi_check(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size"); !st) return st;
  return std::unique_ptr<MpiSession>(new MpiSession(rank, size));
}

MpiSession::~MpiSession() {
  mpi_check_logged(MPI_Finalize(), "MPI_Finalize");
}

}  // namespace xfed::transport
