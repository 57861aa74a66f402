#include "coordinator/pruning_schedule.h"

#include <numeric>

#include "core/log.h"
#include "pruning/criteria.h"
#include "pruning/refit.h"

namespace xfed::coordinator {

PruningSchedule::PruningSchedule(std::optional<pruning::PruneOptions> options, const NetImpl& model,
                                 int64_t clients)
    : options_(std::move(options)) {
  for (const auto& l : model.prunable_layers()) {
    original_layers_.push_back(l.name);
    kept_original_.emplace_back(l.units);
    std::iota(kept_original_.back().begin(), kept_original_.back().end(), 0);
  }
  if (options_) {
    original_size_ = pruning::model_size(model, *options_);
    has_input_stats_.assign(clients, 0);
  }
}

bool PruningSchedule::due(int64_t round, const NetImpl& model, std::optional<double> last_accuracy) {
  if (!options_ || done_ || !options_->is_step_round(round)) return false;
  if (pruning::model_size(model, *options_) <= options_->target * static_cast<double>(original_size_)) {
    done_ = true;
    return false;
  }
  if (options_->floor > 0 && last_accuracy && *last_accuracy < options_->floor) {
    log_warning("round " + std::to_string(round) + ": accuracy below the pruning floor; pruning stops");
    done_ = true;
    return false;
  }
  return true;
}

bool PruningSchedule::needs_stats() const { return options_->gathers_statistics(); }

int PruningSchedule::input_tap(const NetImpl& model) {
  const auto taps = model.tap_layers();
  const auto layers = model.prunable_layers();
  for (size_t t = 0; t < taps.size(); ++t)
    if (layers[taps[t]].name == "input") return static_cast<int>(t);
  return -1;
}

void PruningSchedule::take_input_stats(int64_t client, int input_tap, pruning::Evidence& e) {
  if (input_tap < 0 || !e.taps[input_tap]) return;
  auto& stats = *e.taps[input_tap];
  if (!input_stats_) input_stats_ = pruning::ClassStats::zeros(stats.units(), stats.classes());
  *input_stats_ += stats;
  has_input_stats_[client] = 1;
  e.taps[input_tap].reset();
}

void PruningSchedule::complete(int input_tap, pruning::Evidence& evidence) const {
  if (input_tap >= 0) evidence.taps[input_tap] = input_stats_;
}

Result<PruningSchedule::Step> PruningSchedule::plan(int64_t, NetImpl& model,
                                                    const pruning::Evidence& evidence,
                                                    uint64_t seed) const {
  const auto& o = *options_;
  auto scores = pruning::score_layers(o.criterion, model, evidence, o.rho, seed,
                                      pruning::RhoOptions{o.input_rho, o.rho.absolute}, o.input_l1);
  if (!scores) return scores.status().prefixed("pruning");
  auto plan = pruning::make_plan(model, scores.value().scores, o, original_size_, structure_version_ + 1);
  if (!plan) return plan.status().prefixed("pruning");
  if (o.refit) {
    auto patches = pruning::refit_consumers(model, plan.value(), evidence, {o.refit_ridge});
    if (!patches) return patches.status().prefixed("pruning");
    plan.value().patches = std::move(patches).value();
  }
  return Step{std::move(plan).value(), scores.value().di};
}

void PruningSchedule::adopted(const pruning::StructurePlan& plan, int64_t round, int input_tap) {
  if (input_stats_ && input_tap >= 0) input_stats_ = input_stats_->select_units(plan.kept[0]);
  structure_version_ = plan.version;
  for (size_t l = 0; l < plan.kept.size(); ++l) {
    std::vector<int64_t> next;
    for (auto i : plan.kept[l]) next.push_back(kept_original_[l][i]);
    kept_original_[l] = std::move(next);
  }
  if (options_ && options_->restart_lr) lr_origin_ = round + 1;
}

void PruningSchedule::save(CheckpointState* s) const {
  s->structure_version = structure_version_;
  s->lr_origin = lr_origin_;
  s->kept_original = kept_original_;
  s->has_input_stats = has_input_stats_;
  if (input_stats_) {
    ByteWriter w(&s->input_stats);
    input_stats_->write(w);
  }
}

Status PruningSchedule::restore(const CheckpointState& c, const NetImpl& model) {
  structure_version_ = c.structure_version;
  lr_origin_ = c.lr_origin;
  if (c.kept_original.empty()) return Status::ok();  // a run without pruning
  if (c.kept_original.size() != kept_original_.size())
    return Status::error("kept units for " + std::to_string(c.kept_original.size()) +
                         " layers, the model has " + std::to_string(kept_original_.size()));
  kept_original_ = c.kept_original;
  if (options_ && c.has_input_stats.size() == has_input_stats_.size())
    has_input_stats_ = c.has_input_stats;
  if (options_ && !c.input_stats.empty() && input_tap(model) >= 0) {
    ByteReader r(c.input_stats);
    auto stats = pruning::ClassStats::read(r, model.prunable_layers()[0].units, model.spec().classes);
    if (!stats || !r.done()) return Status::error("malformed input statistics");
    input_stats_ = std::move(stats).value();
  }
  return Status::ok();
}

}  // namespace xfed::coordinator
