// Protocol step 6: federated structured pruning (see coordinator.h).
#include <ATen/ATen.h>

#include "coordinator/coordinator.h"
#include "coordinator/pending.h"
#include "core/log.h"
#include "core/model_state.h"
#include "core/rng.h"
#include "protocol/frame.h"
#include "pruning/criteria.h"
#include "pruning/surgery.h"

namespace xfed::coordinator {

using protocol::FrameKind;


int Coordinator::input_tap() const {
  const auto taps = net_->tap_layers();
  const auto layers = net_->prunable_layers();
  for (size_t t = 0; t < taps.size(); ++t)
    if (layers[taps[t]].name == "input") return static_cast<int>(t);
  return -1;
}

Status Coordinator::maybe_prune(int64_t round, RoundReport* report) {
  const auto& o = options_.prune;
  if (!o || pruning_done_ || !o->is_step_round(round)) return Status::ok();
  if (pruning::model_size(*net_, *o) <= o->target * static_cast<double>(original_size_)) {
    pruning_done_ = true;
    return Status::ok();
  }
  if (o->floor > 0 && last_eval_.test_accuracy && *last_eval_.test_accuracy < o->floor) {
    log_warning("round " + std::to_string(round) + ": accuracy below the pruning floor; pruning stops");
    pruning_done_ = true;
    return Status::ok();
  }
  pruning::Evidence evidence;
  if (pruning::needs_class_stats(o->criterion) || o->criterion == pruning::Criterion::kTaylor) {
    if (auto st = stats_round(round, &evidence, report); !st) return st;
  }
  auto scores = pruning::score_layers(o->criterion, model(), evidence, o->rho,
                                      mix_seed(options_.seed, kStreamStats, round, 1),
                                      pruning::RhoOptions{o->input_rho, o->rho.absolute});
  if (!scores) return scores.status().prefixed("pruning");
  auto plan = pruning::make_plan(model(), scores.value().scores, *o, original_size_, structure_version_ + 1);
  if (!plan) return plan.status().prefixed("pruning");
  std::vector<double> removed, kept;
  const auto before = pruning::layer_units(*net_);
  for (size_t l = 0; l < before.size(); ++l) {
    kept.push_back(static_cast<double>(plan.value().kept[l].size()));
    removed.push_back(static_cast<double>(before[l]) - kept.back());
  }
  if (auto st = adopt_plan(plan.value()); !st) return st;
  send_plan(plan.value());
  if (o->restart_lr) lr_origin_ = round + 1;
  report->per_layer["pruned"] = removed;
  report->per_layer["kept"] = kept;
  if (!scores.value().di.empty()) report->per_layer["di"] = scores.value().di;
  return Status::ok();
}

Status Coordinator::stats_round(int64_t round, pruning::Evidence* evidence, RoundReport* report) {
  const auto& o = *options_.prune;
  const auto sampled = sample_clients(options_.clients, options_.fraction,
                                      mix_seed(options_.seed, kStreamStats), round);
  broadcast_.advance(global_, layout_, mix_seed(options_.seed, kStreamCodec, round, 1));
  auto task = task_for_round(round, report->lr);
  task.mode = protocol::TaskMode::kStats;
  task.stats_samples = static_cast<uint32_t>(o.stats_samples);
  task.stats_noise = o.noise;
  task.spatial = o.spatial;
  task.taylor = o.criterion == pruning::Criterion::kTaylor;
  task.fp32_stats = !o.bf16_stats;
  const bool has_input = input_tap() >= 0;
  Pending pending;
  pending.expected = FrameKind::kStats;
  pending.evidence = evidence;
  dispatch(round, sampled, task, [&](int64_t c, protocol::TrainTask* t) {
    t->skip_input = has_input && has_input_stats_[c];  // input statistics: once per client
  }, &pending, report);
  std::vector<ClientUpdate> unused;
  if (auto st = collect(round, &pending, &unused, report); !st) return st;
  if (auto st = check_not_all_failed(round, pending, pending.stats.size()); !st) return st;
  close_round(pending, report);
  sum_stats(&pending, report);
  if (evidence->taps.empty()) return Status::error("stats round " + std::to_string(round) + ": no client answered");
  if (has_input) evidence->taps[input_tap()] = input_stats_;
  return Status::ok();
}

Status Coordinator::accept_stats(const protocol::Frame& frame, ByteReader& r, Pending* pending) {
  std::vector<int64_t> tap_units;
  const auto layers = net_->prunable_layers();
  for (int l : net_->tap_layers()) tap_units.push_back(layers[l].units);
  auto ev = pruning::Evidence::read(r, tap_units, test_->classes);
  if (!ev) return ev.status();
  if (!r.done()) return Status::error("trailing bytes after the statistics");
  pending->stats[frame.header.client] = std::move(ev).value();
  return Status::ok();
}

void Coordinator::sum_stats(Pending* pending, RoundReport* report) {
  const int in = input_tap();
  for (auto& [client, e] : pending->stats) {  // client order
    if (in >= 0 && e.taps[in]) {  // this client's input statistics: kept for good
      if (!input_stats_)
        input_stats_ = pruning::ClassStats::zeros(e.taps[in]->units(), e.taps[in]->classes());
      *input_stats_ += *e.taps[in];
      has_input_stats_[client] = 1;
      e.taps[in].reset();
    }
    if (auto st = pending->evidence->add(e); !st) {  // its frame was well-formed, its shape is not ours
      log_warning("client " + std::to_string(client) + ": " + st.message() + "; its statistics are dropped");
      ++report->dropped;
    }
  }
  pending->stats.clear();
}

Status Coordinator::adopt_plan(const pruning::StructurePlan& plan) {
  auto gather = pruning::flat_gather_index(model(), plan);
  if (!gather) return gather.status();
  auto slim = pruning::apply_plan(model(), plan);
  if (!slim) return slim.status();
  const auto view = pruning::slice_flat(broadcast_.view(), gather.value());
  global_ = pruning::slice_flat(global_, gather.value());
  if (input_stats_ && input_tap() >= 0) input_stats_ = input_stats_->select_units(plan.kept[0]);
  net_ = slim.value();
  layout_ = layout_of(*net_);
  optimizer_.remap(gather.value(), layout_.param_count());
  broadcast_.reset(view, broadcast_.version() + 1);
  structure_version_ = plan.version;
  ++model_version_;
  for (size_t l = 0; l < plan.kept.size(); ++l) {
    std::vector<int64_t> next;
    for (auto i : plan.kept[l]) next.push_back(kept_original_[l][i]);
    kept_original_[l] = std::move(next);
  }
  return Status::ok();
}

void Coordinator::send_plan(const pruning::StructurePlan& plan) {
  Bytes payload;
  ByteWriter w(&payload);
  plan.write(w);
  protocol::FrameHeader h;
  h.kind = FrameKind::kPlan;
  h.model_version = static_cast<uint32_t>(broadcast_.version());
  h.codecs = {protocol::CodecId::kNone};
  const auto frame = protocol::encode_frame(h, payload);
  for (int r = 1; r < transport_.world_size(); ++r)
    if (alive_[r] && !transport_.send(r, frame)) log_warning("plan to " + transport::peer_name(r) + " not delivered");
}

}  // namespace xfed::coordinator
