// Coordinator::Pending: the bookkeeping of one collection phase (training or stats round).
// Private to coordinator/*.cc.
#pragma once

#include <map>

#include "coordinator/coordinator.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "pruning/evidence.h"

namespace xfed::coordinator {

struct Coordinator::Pending {
  protocol::FrameKind expected = protocol::FrameKind::kUpdate;
  pruning::Evidence* evidence = nullptr;   // stats rounds: where client evidence is summed
  // Stats rounds: each client's evidence as it arrived; summed in client order once the
  // round closes, so that float64 rounding does not depend on arrival order.
  std::map<int64_t, pruning::Evidence> stats;
  std::map<int64_t, int> rank_of;          // clients still expected -> their rank
  size_t dispatched = 0;                   // clients that were sent a task this phase
  std::map<int, double> busy;              // rank -> seconds of client work (critical path)
  std::map<int64_t, int64_t> bytes_down;   // client -> bytes of its task frame
  std::map<int64_t, int64_t> bytes_up;     // client -> bytes of its valid reply
  std::map<int64_t, protocol::TaskFailure> failed;  // clients that answered with a failure
};

}  // namespace xfed::coordinator
