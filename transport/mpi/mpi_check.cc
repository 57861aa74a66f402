#include "transport/mpi/mpi_check.h"

#include <mpi.h>

#include "core/log.h"
#include "transport/transport.h"

namespace xfed::transport {

Status mpi_check(int rc, const char* what, int peer) {
  if (rc == MPI_SUCCESS) return Status::ok();
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
  const std::string why = length > 0 ? std::string(text, length) : "MPI error " + std::to_string(rc);
  const std::string with = peer >= 0 ? " with " + peer_name(peer) : "";
  return Status::peer_lost(std::string(what) + with + " failed: " + why);
}

void mpi_check_logged(int rc, const char* what, int peer) {
  if (auto st = mpi_check(rc, what, peer); !st) log_warning(st.message());
}

}  // namespace xfed::transport
