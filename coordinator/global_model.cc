#include "coordinator/global_model.h"

#include "core/model_state.h"
#include "pruning/surgery.h"

namespace xfed::coordinator {

GlobalModel::GlobalModel(Net model, std::shared_ptr<const ServerRule> server_rule, double server_lr,
                         compression::Pipeline downlink_pipeline, int world_size, int64_t clients)
    : net(std::move(model)),
      layout(layout_of(*net)),
      global(read_state(*net)),
      optimizer(std::move(server_rule), server_lr, layout.param_count()),
      downlink(std::move(downlink_pipeline), world_size, clients) {
  downlink.reset(global, 0);
}

NetImpl& GlobalModel::loaded() {
  write_state(*net, global);
  return *net;
}

Status GlobalModel::restructure(const pruning::StructurePlan& plan) {
  auto gather = pruning::flat_gather_index(loaded(), plan);
  if (!gather) return gather.status();
  auto slim = pruning::apply_plan(loaded(), plan);
  if (!slim) return slim.status();
  const auto slim_layout = layout_of(*slim.value());
  auto view = pruning::slice_and_patch(downlink.view(), gather.value(), slim_layout, plan);
  if (!view) return view.status();
  global = read_state(*slim.value());  // sliced and refitted
  net = slim.value();
  layout = slim_layout;
  optimizer.remap(gather.value(), layout.param_count());
  downlink.restructure(view.value());
  ++version;
  return Status::ok();
}

Status GlobalModel::restore(const CheckpointState& c, const std::string& where) {
  auto spec = ModelSpec::from_json(c.spec_json);
  if (!spec) return spec.status().prefixed(where);
  Net restored = spec.value() != net->spec() ? make_model(spec.value()) : net;  // pruned: its structure
  const auto restored_layout = layout_of(*restored);
  if (c.weights.numel() != restored_layout.total) return Status::error(where + ": weights do not match the model");
  ServerOptimizer restored_optimizer = optimizer;
  restored_optimizer.reset(restored_layout.param_count());
  if (auto st = restored_optimizer.load_state(c.optimizer_state); !st) return st;
  net = restored;
  layout = restored_layout;
  optimizer = std::move(restored_optimizer);
  global = c.weights;
  version = c.model_version;
  downlink.reset(c.view.defined() ? c.view : global, c.view_version);
  return Status::ok();
}

}  // namespace xfed::coordinator
