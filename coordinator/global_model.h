// GlobalModel: the coordinator's model state as one value — the network (its structure),
// the layout of its flat state, the flat global state, the server optimizer's state, the
// downlink view (what the workers hold) and the model version. A change of structure
// changes all of them together, in one of two ways: restructure(plan) when a pruning plan
// cuts the model, restore(checkpoint) when a resumed run takes back a checkpoint's model.
#pragma once

#include <ATen/ATen.h>

#include "compression/pipeline.h"
#include "coordinator/broadcast.h"
#include "coordinator/checkpoint.h"
#include "coordinator/server_optimizer.h"
#include "core/model.h"
#include "core/state_layout.h"
#include "pruning/structure_plan.h"

namespace xfed::coordinator {

struct GlobalModel {
  GlobalModel(Net model, std::shared_ptr<const ServerRule> server_rule, double server_lr,
              compression::Pipeline downlink, int world_size, int64_t clients);

  // The network with the global state loaded.
  NetImpl& loaded();
  // The plan's slimmer network: global state, optimizer state and downlink view sliced (and
  // refitted) the same way, one version on. Nothing changes on an error.
  Status restructure(const pruning::StructurePlan& plan);
  // A checkpoint's model (the caller checked it is of this family): its structure, weights,
  // optimizer state, downlink view and version. `where` prefixes errors.
  Status restore(const CheckpointState& c, const std::string& where);

  Net net;
  StateLayout layout;
  at::Tensor global;  // flat state
  ServerOptimizer optimizer;
  Broadcaster downlink;
  int64_t version = 0;  // bumps on every global model update and structure change
};

}  // namespace xfed::coordinator
