// Worker: the client side of the round protocol (steps 2-3 of coordinator/coordinator.h).
//
// A worker serves the logical clients the coordinator assigns to its rank. For each model
// frame it (re)builds the model from the spec in the frame, loads the state, trains the
// client locally, and replies with an update frame carrying Delta = w_local - w_round.
// Between tasks it keeps one model instance (per rank, not per client). Bad frames are
// logged and dropped; the coordinator's deadline covers the missing reply.
// One Worker per rank; run() blocks its thread until shutdown.
#pragma once

#include <memory>

#include "compression/frame.h"
#include "compression/messages.h"
#include "compression/pipeline.h"
#include "core/client_data.h"
#include "core/model.h"
#include "core/state_layout.h"
#include "transport/transport.h"

namespace xfed::worker {

struct WorkerOptions {
  uint64_t max_frame_bytes = compression::kDefaultMaxFrameBytes;
};

class Worker {
 public:
  Worker(transport::Transport& transport, std::shared_ptr<const ClientDataSource> data,
         WorkerOptions options = {});
  // Serves until a shutdown command; an error Status only if the transport fails.
  Status run();
  int64_t tasks_done() const { return tasks_done_; }

 private:
  Status handle_model(const compression::Frame& frame);
  Status load_model(ByteReader& r, at::Tensor* round_state);
  const compression::Pipeline& uplink(const std::string& spec);

  transport::Transport& transport_;
  std::shared_ptr<const ClientDataSource> data_;
  WorkerOptions options_;
  Net net_;
  StateLayout layout_;
  compression::Pipeline uplink_;
  int64_t tasks_done_ = 0;
};

}  // namespace xfed::worker
