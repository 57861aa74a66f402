#include "app/resume_check.h"

#include <filesystem>
#include <sstream>

#include "app/datasets.h"
#include "app/model_flag.h"
#include "compression/stage.h"
#include "coordinator/aggregator.h"
#include "coordinator/checkpoint.h"
#include "coordinator/dp.h"
#include "coordinator/secure_round.h"
#include "coordinator/share_weights.h"
#include "coordinator/strategy.h"
#include "core/check.h"
#include "core/model_spec.h"
#include "core/parse.h"
#include "core/run_identity.h"
#include "xfed/config.h"

namespace xfed::app {
namespace {

constexpr const char* kVersionKey = "xfed";

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

// "models: a,b; aggregators: c; strategies: d; datasets: e; stages: f" — empty when the
// program registered nothing.
std::string registered_names() {
  std::string out;
  const auto add = [&out](const char* kind, const std::vector<std::string>& names) {
    if (!names.empty()) out += (out.empty() ? "" : "; ") + std::string(kind) + ": " + joined(names);
  };
  add("models", registered_family_names());
  add("aggregators", coordinator::added_aggregator_names());
  add("strategies", coordinator::added_strategy_names());
  add("datasets", added_dataset_names());
  add("stages", compression::registered_stage_names());
  return out;
}

}  // namespace

std::string run_identity(const RunConfig& c, const Dataset& train) {
  std::ostringstream os;
  auto put = [&](const char* key, const std::string& value) { os << key << "=" << value << "\n"; };
  put(kVersionKey, XFED_VERSION);  // processes of one run are one build of xfed
  put("--dataset", c.dataset);
  put("--data-dir", c.data_dir);
  put("data shape", std::to_string(train.channels()) + "x" + std::to_string(train.height()) + "x" +
                        std::to_string(train.width()) + ", " + std::to_string(train.classes) +
                        " classes, " + std::to_string(train.size()) + " samples");
  put("--model", resolve_model_flag(c).identity);
  put("--widths", c.widths);
  put("--clients", std::to_string(c.clients));
  put("--partition", c.partition);
  put("--seed", std::to_string(c.seed));
  put("--fraction", exact_number(c.fraction));
  TrainOptions::visit(c.train, [&put](const Knob& k, const auto& v) {
    if (k.flag) put(k.flag, k.wire == Knob::Wire::kF64 ? exact_number(static_cast<double>(v)) : std::to_string(v));
  });
  put("--lr-decay", exact_number(c.lr_decay));
  put("--strategy", c.strategy);
  put("--server-lr", exact_number(c.server_lr));
  if (c.aggregate != "mean") put("--aggregate", c.aggregate);  // absent from older identities
  if (!c.attack.empty()) put("--attack", c.attack);
  if (!c.dp.empty()) put("--dp", coordinator::DpSpec::parse(c.dp).value_or_throw<UsageError>().identity());
  if (!c.secure_aggregation.empty())
    put("--secure-aggregation", coordinator::secure_aggregation_identity(
                                    coordinator::parse_secure_aggregation(c.secure_aggregation).value_or_throw<UsageError>()));
  if (!c.share_weights.empty())  // absent from older identities
    put("--share-weights", coordinator::share_weights_identity(
                               coordinator::parse_share_weights(c.share_weights, c.rounds).value_or_throw<UsageError>()));
  put("--compress", c.compress);
  put("--downlink", c.downlink);
  put("--no-error-feedback", c.no_error_feedback ? "true" : "false");
  put("--ef-momentum", exact_number(c.ef_momentum));
  put("--sparsity-warmup", std::to_string(c.sparsity_warmup));
  put("--warmup-start-ratio", exact_number(c.warmup_start_ratio));
  put("--prune", c.prune);
  if (!c.transport.empty()) put("transport", c.transport);
  // What the program registered beyond the built-ins: every process of a run must have it.
  if (const auto added = registered_names(); !added.empty()) put("registered", added);
  if (c.dataset == "synthetic") {
    put("--synthetic-shape", c.synthetic_shape);
    put("--synthetic-noise", exact_number(c.synthetic_noise));
  }
  return os.str();
}

worker::ResumePoint check_resume(const RunConfig& c, const std::string& identity) {
  const std::string path = coordinator::checkpoint_path(c.checkpoint_dir);
  if (!std::filesystem::exists(path)) return {};
  auto ck = coordinator::load_checkpoint(c.checkpoint_dir);
  if (!ck) throw UsageError("--resume: " + ck.message());
  const auto& saved = ck.value();
  if (saved.round > c.rounds)
    throw UsageError("--resume: " + path + " is at round " + std::to_string(saved.round) +
                     ", beyond --rounds " + std::to_string(c.rounds));
  if (saved.run_identity.empty()) return {saved.round, saved.structure_version};  // an older checkpoint: nothing to compare
  // A checkpoint outlives the build that wrote it: its format is checked on load.
  if (const auto diff = first_difference(without_key(identity, kVersionKey), without_key(saved.run_identity, kVersionKey)))
    throw UsageError("--resume: " + path + " was made with " + diff->key + " '" + diff->other_value +
                     "', this run has '" + diff->reference_value +
                     "' (use the same setting or another --checkpoint-dir)");
  return {saved.round, saved.structure_version};
}

}  // namespace xfed::app
