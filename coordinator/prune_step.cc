// Protocol step 6: federated structured pruning (see coordinator.h).
#include <ATen/ATen.h>

#include "coordinator/coordinator.h"
#include "coordinator/robust_statistics.h"
#include "core/log.h"
#include "core/rng.h"
#include "protocol/frame.h"
#include "pruning/criteria.h"
#include "pruning/masked_stats.h"
#include "pruning/surgery.h"

namespace xfed::coordinator {

using protocol::FrameKind;

namespace {

std::string client_list(const std::set<int64_t>& clients) {
  std::string out = clients.size() == 1 ? "client " : "clients ";
  for (auto c : clients) out += (c == *clients.begin() ? "" : ", ") + std::to_string(c);
  return out;
}

}  // namespace


Status Coordinator::maybe_prune(int64_t round, RoundReport* report) {
  if (const auto& share = options_.share_weights;  // ends at sharing, or at magnitude pruning
      share && (share->active_in(round) || (share->sparsity > 0 && round >= share->first_pruning_round())))
    return Status::ok();
  if (!pruning_.due(round, *state_.net, last_eval_.test_accuracy)) return Status::ok();
  pruning::Evidence evidence;
  if (pruning_.needs_stats()) {
    if (auto st = stats_round(round, &evidence, report); !st) return st;
    if (evidence.taps.empty()) return Status::ok();  // nothing unmasked (secure aggregation): logged
  }
  auto step = pruning_.plan(round, model(), evidence, mix_seed(options_.seed, kStreamStats, round, 1));
  if (!step) return step.status();
  const auto& plan = step.value().plan;
  std::vector<double> removed, kept;
  const auto before = pruning::layer_units(*state_.net);
  for (size_t l = 0; l < before.size(); ++l) {
    kept.push_back(static_cast<double>(plan.kept[l].size()));
    removed.push_back(static_cast<double>(before[l]) - kept.back());
  }
  if (auto st = adopt_plan(plan, round); !st) return st;
  send_plan(plan);
  report->per_layer["pruned"] = removed;
  report->per_layer["kept"] = kept;
  if (!step.value().di.empty()) report->per_layer["di"] = step.value().di;
  return Status::ok();
}

Status Coordinator::stats_round(int64_t round, pruning::Evidence* evidence, RoundReport* report) {
  const auto& o = pruning_.options();
  const auto sampled = dp_ ? dp_->sample_stats(round)
                          : sample_clients(options_.clients, o.statistics_fraction(options_.fraction),
                                           mix_seed(options_.seed, kStreamStats), round);
  advance_view(mix_seed(options_.seed, kStreamCodec, round, 1), report);
  auto task = task_for_round(round, report->lr);
  task.mode = protocol::TaskMode::kStats;
  task.stats_samples = static_cast<uint32_t>(o.stats_samples);
  task.stats_noise = o.noise;
  task.spatial = o.spatial;
  task.taylor = o.criterion == pruning::Criterion::kTaylor;
  task.fp32_stats = !o.bf16_stats;
  if (dp_) task.stats_clip_rms = dp_->spec().stats_clip;
  if (options_.secure_aggregation) return secure_stats_round(round, sampled, task, evidence, report);
  const int input_tap = PruningSchedule::input_tap(*state_.net);
  const bool keep_input = !dp_;  // under --dp every round's input statistics are noised afresh
  RoundCollection stats(round, FrameKind::kStats, *report);
  dispatch(sampled, task, [&](int64_t c, protocol::TrainTask* t) {
    // Input statistics: once per client, and never when the input is scored by its weights.
    t->skip_input = input_tap >= 0 && ((keep_input && pruning_.has_input_stats(c)) || o.input_l1);
  }, stats);
  if (auto st = collect(stats); !st) return st;
  if (auto st = stats.all_failed_error(); !st) return st;
  close_phase(stats);
  if (options_.attack && options_.attack->poisons_statistics())
    for (auto& [client, e] : stats.stats())
      if (hostile_.count(client)) forge_statistics(*options_.attack, options_.seed, round, client, e);
  if (dp_) {  // released even when no client answered: the round's noise alone
    *evidence = dp_->private_evidence(stats.stats(), pruning::gathered_tap_units(*state_.net, o.input_l1), test_->classes, round);
    return Status::ok();
  }
  const auto left_out = farthest_statistics(stats.stats(), o.stats_trim);
  if (!left_out.empty()) {
    report->per_layer["stats_left_out"] = std::vector<double>(left_out.begin(), left_out.end());
    log_info("stats round " + std::to_string(round) + ": statistics of " + client_list(left_out) +
             " left out (farthest from the median, stats_trim=" + std::to_string(o.stats_trim) + ")");
  }
  for (auto& [client, e] : stats.stats()) {  // client order: float64 sums do not depend on arrival
    if (left_out.count(client)) continue;
    pruning_.take_input_stats(client, input_tap, e);
    if (auto st = evidence->add(e); !st) {  // its frame was well-formed, its shape is not ours
      log_warning("client " + std::to_string(client) + ": " + st.message() + "; its statistics are dropped");
      ++report->dropped;
    }
  }
  if (evidence->taps.empty()) return Status::error("stats round " + std::to_string(round) + ": no client answered");
  pruning_.complete(input_tap, *evidence);
  return Status::ok();
}

Status Coordinator::accept_stats(int64_t client, ByteReader& r, const protocol::UpdateMeta& meta,
                                 int64_t frame_bytes, RoundCollection& phase) {
  auto ev = pruning::Evidence::read(r, pruning::gathered_tap_units(*state_.net, false), test_->classes);
  if (!ev) return ev.status();
  if (!r.done()) return Status::error("trailing bytes after the statistics");
  const bool noised = options_.prune && options_.prune->noise > 0;
  for (size_t t = 0; t < ev.value().taps.size(); ++t)
    if (const auto& stats = ev.value().taps[t])
      if (auto st = stats->check_consistent(static_cast<int64_t>(meta.samples), noised); !st)
        return st.prefixed("statistics of tap " + std::to_string(t));
  phase.add_stats(client, std::move(ev).value(), meta, frame_bytes);
  return Status::ok();
}

Status Coordinator::adopt_plan(const pruning::StructurePlan& plan, int64_t round) {
  const int input_tap = PruningSchedule::input_tap(*state_.net);
  if (auto st = state_.restructure(plan); !st) return st;
  pruning_.adopted(plan, round, input_tap);
  return Status::ok();
}

void Coordinator::send_plan(const pruning::StructurePlan& plan) {
  Bytes payload;
  ByteWriter w(&payload);
  plan.write(w);
  protocol::FrameHeader h;
  h.kind = FrameKind::kPlan;
  h.model_version = static_cast<uint32_t>(state_.downlink.version());
  h.codecs = {protocol::CodecId::kNone};
  const auto frame = protocol::encode_frame(h, payload);
  for (int r = 1; r < transport_.world_size(); ++r)
    if (!alive_[r] || !send_to(r, frame)) {
      if (alive_[r]) log_warning("plan to " + transport::peer_name(r) + " not delivered");
      state_.downlink.forget_rank(r);  // its view is not cut: it gets the full model
    }
}

}  // namespace xfed::coordinator
