// MPI transport: ranks are the processes of one MPI job (mpirun / srun), frames are MPI
// point-to-point messages on a private duplicate of MPI_COMM_WORLD.
//
// - A frame is exactly one MPI message of its bytes (no extra header), so the bytes the
//   metrics report are the bytes handed to MPI. Frames above `large_frame_bytes` go as one
//   message of a derived datatype (blocks of that size plus a remainder): MPI counts are int.
// - recv learns a frame's size with a matched probe (MPI_Improbe, MPI_Get_elements_x) and
//   takes exactly that message (MPI_Imrecv), so two threads never race for one message.
// - Nothing blocks inside MPI: Open MPI's blocking calls spin a core, and on a small box
//   waiting ranks would starve the one that computes. send posts MPI_Isend and returns (the
//   transport owns the bytes until MPI is done with them); recv polls with a sleep that
//   backs off from 16 us to `max_poll_sleep`, making progress on pending sends as it goes.
//   The destructor waits (at most `flush_timeout`) for pending sends, then frees the
//   communicator.
// - Errors: the communicator returns MPI errors (MPI_ERRORS_RETURN); each becomes a Status
//   naming the call and the peer (mpi_check.h). Open MPI 4.1 ends the whole job when a rank
//   dies, so a lost peer is never reported here: under MPI, checkpoint/resume is the
//   recovery path.
// Thread-safety: as Transport (one receiving thread, any number of sending threads); the
// transport serializes its MPI calls, so MPI_THREAD_SERIALIZED suffices. Needs a started
// MpiSession (mpi_session.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "transport/transport.h"

namespace xfed::transport {

struct MpiOptions {
  int64_t large_frame_bytes = int64_t{1} << 30;  // 1 .. 2^31-1
  std::chrono::microseconds max_poll_sleep{1000};
  std::chrono::milliseconds flush_timeout{30000};
};

// What this rank handed to MPI and got from it: frames and their bytes, nothing else.
struct MpiTraffic {
  uint64_t frames_sent = 0, bytes_sent = 0;
  uint64_t frames_received = 0, bytes_received = 0;
};

class MpiTransport : public Transport {
 public:
  virtual MpiTraffic traffic() const = 0;
  // Ends this rank's use: later send/recv fail ("transport closed"), a waiting recv returns.
  virtual void close() = 0;
};

// Collective over MPI_COMM_WORLD (it duplicates it): every rank calls it, in the same order.
Result<std::unique_ptr<MpiTransport>> make_mpi_transport(const MpiOptions& options = {});

}  // namespace xfed::transport
