// MpiSession: MPI's lifetime in a process. start() calls MPI_Init_thread (asking for
// MPI_THREAD_SERIALIZED: the transport serializes its own calls, from any thread) and the
// destructor MPI_Finalize. One per process, created before any MPI transport and destroyed
// after the last one. Started outside mpirun, Open MPI runs a world of one rank
// ("singleton"), which `xfed mpi` refuses with a clear message.
#pragma once

#include <memory>

#include "core/status.h"

namespace xfed::transport {

class MpiSession {
 public:
  static Result<std::unique_ptr<MpiSession>> start();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int world_rank() const { return rank_; }
  int world_size() const { return size_; }

 private:
  MpiSession(int rank, int size) : rank_(rank), size_(size) {}
  int rank_;
  int size_;
};

}  // namespace xfed::transport
