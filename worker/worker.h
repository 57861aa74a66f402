// Worker: the client side of the round protocol (steps 2-3 of coordinator/coordinator.h).
//
// A worker serves the logical clients the coordinator assigns to its rank. It holds one
// model instance and the model "view" of the last version it received: a model frame
// replaces the view (and rebuilds the model if the spec changed), a delta frame advances it
// from the base version it names. For each task it trains the client locally from the view
// and replies with an update frame carrying Delta = w_local - w_view, compressed with the
// task's uplink pipeline and the client's error-feedback state (error_feedback.h), plus
// the CRC of the view, so the coordinator can prove the client did not drift. A stats task
// gathers pruning evidence instead (stats_collector.h); a plan frame registers a structure
// change so the clients' EF state is sliced like the model. A control frame stops the worker
// or asks it to save its clients' state for a checkpoint, which it confirms
// (client_state_file.h).
// Every task gets an answer: a task the worker cannot do (undecodable, a client it does not
// hold, training that diverged to NaN, an exception) is answered with a failure frame naming
// the reason, so the coordinator counts it instead of waiting. Frames that are not tasks and
// cannot be decoded are logged and dropped.
// One Worker per rank; run() blocks its thread until shutdown.
#pragma once

#include <memory>
#include <optional>

#include "compression/pipeline.h"
#include "core/client_data.h"
#include "core/model.h"
#include "core/state_layout.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "transport/transport.h"
#include "worker/error_feedback.h"
#include "worker/local_trainer.h"

namespace xfed::worker {

// The trainer's options for a task of the wire (the client's own seed given).
TrainOptions train_options(const protocol::TrainTask& task, uint64_t seed);

struct WorkerOptions {
  uint64_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
  // Per-client EF state; shared by the workers of one process. Null: a private store.
  std::shared_ptr<ClientStateStore> client_state;
  // Where this worker saves its clients' state when the coordinator checkpoints
  // (worker/client_state_file.h); empty: it has nowhere to save and says so.
  std::string client_state_file;
};

class Worker {
 public:
  Worker(transport::Transport& transport, std::shared_ptr<const ClientDataSource> data,
         WorkerOptions options = {});
  // Serves until a shutdown command; an error Status only if the coordinator is gone.
  Status run();
  int64_t tasks_done() const { return tasks_done_; }

 private:
  // The task's failure, if it failed (the reply was then not sent).
  std::optional<protocol::TaskFailure> handle_task(const protocol::Frame& frame);
  void send_failure(const protocol::FrameHeader& task, const protocol::TaskFailure& failure);
  Status load_full_model(ByteReader& r, const protocol::Frame& frame);
  Status apply_delta(ByteReader& r, const protocol::Frame& frame);
  Result<Bytes> train_and_encode(const protocol::Frame& frame,
                                 const protocol::TrainTask& task, double seconds_decode);
  Result<Bytes> gather_stats(const protocol::Frame& frame, const protocol::TrainTask& task,
                             double seconds_decode);
  Status handle_plan(const protocol::Frame& frame);
  // A control frame; false when it says shut down.
  bool handle_control(const protocol::Frame& frame);
  void save_client_state(uint32_t round);

  transport::Transport& transport_;
  std::shared_ptr<const ClientDataSource> data_;
  WorkerOptions options_;
  Net net_;
  StateLayout layout_;
  at::Tensor view_;            // flat state of version view_version_
  int64_t view_version_ = -1;  // -1: none yet
  uint32_t view_crc_ = 0;
  int64_t tasks_done_ = 0;
};

}  // namespace xfed::worker
