// The worker's view: the flat model state of the version it holds, brought up to a task's
// version by a full model, a seeded start or the coordinator's steps, and cut down with
// the model by a plan (worker.h).
#include <ATen/ATen.h>

#include "compression/state_codec.h"
#include "core/model_state.h"
#include "pruning/surgery.h"
#include "worker/worker.h"

namespace xfed::worker {

using protocol::Frame;

// Builds the model of `spec_json` unless this worker has it already.
bool Worker::use_model(const std::string& spec_json, Status* error) {
  auto spec = ModelSpec::from_json(spec_json);
  if (!spec) {
    *error = spec.status();
    return false;
  }
  if (!net_ || net_->spec() != spec.value()) {
    net_ = make_model(spec.value());
    layout_ = layout_of(*net_);
    view_version_ = -1;
  }
  return true;
}

Status Worker::load_full_model(ByteReader& r, const Frame& frame) {
  std::string spec_json;
  Status st;
  if (!r.get_string(&spec_json)) return Status::corruption("truncated model spec");
  if (!use_model(spec_json, &st)) return st;
  auto view = at::empty({layout_.total}, at::kFloat);
  if (auto st = compression::decode_state(r, layout_, frame.header.codecs, view.data_ptr<float>()); !st)
    return st;
  view_ = view;
  return Status::ok();
}

// The initial model from its seed, unless this worker already holds a version the steps
// lead on from; then the steps.
Status Worker::build_seeded_model(ByteReader& r, const Frame& frame) {
  std::string spec_json;
  uint64_t seed;
  uint32_t crc, base;
  if (!r.get_string(&spec_json) || !r.get_u64(&seed) || !r.get_u32(&crc) || !r.get_u32(&base))
    return Status::corruption("truncated seeded model header");
  auto spec = ModelSpec::from_json(spec_json);
  if (!spec) return spec.status();
  const bool same_model = net_ && net_->spec() == spec.value();
  const bool on_the_way = same_model && view_version_ >= base && view_version_ <= frame.header.model_version;
  if (!on_the_way) {
    auto built = make_initial_model(spec.value(), seed);
    auto seeded = read_state(*built);
    if (const uint32_t got = state_crc(seeded); got != crc)
      return Status::corruption("the model built from seed " + std::to_string(seed) + " has CRC " +
                                std::to_string(got) + ", the coordinator's " + std::to_string(crc) +
                                " (another CPU or LibTorch?); the next task brings the full model");
    if (!same_model) {
      net_ = built;
      layout_ = layout_of(*net_);
    }
    view_ = seeded;
    view_version_ = base;
  }
  return apply_steps(r, frame, base);
}

Status Worker::apply_delta(ByteReader& r, const Frame& frame) {
  uint32_t base;
  if (!r.get_u32(&base)) return Status::corruption("truncated delta header");
  if (!net_ || view_version_ < base || view_version_ > frame.header.model_version)
    return Status::stale("delta against version " + std::to_string(base) + " but this worker holds " +
                         std::to_string(view_version_));
  return apply_steps(r, frame, base);
}

// The frame holds the steps from `base` to its model version, one after the other; this
// worker applies those past the version it holds, in order, as the coordinator did.
Status Worker::apply_steps(ByteReader& r, const Frame& frame, int64_t base) {
  const int64_t target = frame.header.model_version;
  if (target < base) return Status::corruption("delta ends before it starts");
  auto view = view_;
  auto step = at::empty({layout_.total}, at::kFloat);
  for (int64_t v = base + 1; v <= target; ++v) {
    if (auto st = compression::decode_next_state(r, layout_, frame.header.codecs, step.data_ptr<float>()); !st)
      return st;
    if (v > view_version_) view = view + step;  // new tensors: tasks still training hold the old one
  }
  if (!r.done()) return Status::corruption("trailing bytes after the model steps");
  view_ = view;
  return Status::ok();
}

// A plan registers the structure change for the clients' state and cuts the view down with
// the model when the view is the one the plan was made from: then the next task brings only
// the steps since (the coordinator sliced and refitted its view the same way).
Status Worker::handle_plan(const Frame& frame) {
  auto r = frame.payload_reader();
  auto plan = pruning::StructurePlan::read(r);
  if (!plan) return plan.status();
  state_moved_ = true;
  if (auto st = options_.client_state->add_plan(plan.value()); !st) return st;
  const bool from_view = net_ && net_->spec() == plan.value().from &&
                         view_version_ + 1 == static_cast<int64_t>(frame.header.model_version);
  if (!from_view) {
    view_version_ = -1;  // the next task brings a full model
    return Status::ok();
  }
  return restructure_view(plan.value(), frame.header.model_version);
}

Status Worker::restructure_view(const pruning::StructurePlan& plan, int64_t version) {
  view_version_ = -1;  // until the cut succeeded
  auto gather = pruning::flat_gather_index(*net_, plan);
  if (!gather) return gather.status();
  auto slim = make_model(net_->spec_after(plan.kept));
  const auto slim_layout = layout_of(*slim);
  auto view = pruning::slice_and_patch(view_, gather.value(), slim_layout, plan);
  if (!view) return view.status();
  net_ = slim;
  layout_ = slim_layout;
  view_ = view.value();
  view_version_ = version;
  view_crc_ = state_crc(view_);
  return Status::ok();
}

}  // namespace xfed::worker
