#include "coordinator/share_weights.h"

#include <cmath>
#include <set>

#include "core/parse.h"

namespace xfed::coordinator {
namespace {

// One key=value of the spec into `spec`; false when the key or its value is not one of them.
bool set_item(const std::string& key, const std::string& value, int64_t rounds, ShareWeightsSpec* spec) {
  if (key == "sparsity") {
    double s = 0;
    if (!parse_double(value, &s) || !(s >= 0 && s < 1)) return false;
    spec->sparsity = s;
    return true;
  }
  int64_t n = 0;
  if (!parse_int64(value, &n)) return false;
  if (key == "restart_lr" && (n == 0 || n == 1)) {
    spec->restart_lr = n == 1;
  } else if (key == "bits" && n >= 1 && n <= 16) {
    spec->bits = static_cast<int>(n);
  } else if (key == "after" && n >= 1 && n < rounds) {
    spec->after = n;
  } else if (key == "prune_after" && n >= 1 && n < rounds) {
    spec->prune_after = n;
  } else if (key == "prune_steps" && n >= 1 && n < rounds) {
    spec->prune_steps = n;
  } else {
    return false;
  }
  return true;
}

}  // namespace

Result<ShareWeightsSpec> parse_share_weights(const std::string& text, int64_t rounds) {
  const std::string usage = "--share-weights '" + text + "': expected on, or bits=B,after=R,sparsity=S,prune_after=P,"
                            "prune_steps=N,restart_lr=0|1 (any of them) with B a whole number in [1, 16], R, P and N "
                            "ones in [1, " + std::to_string(rounds - 1) +
                            "] (rounds before the last) and S a fraction in [0, 1)";
  ShareWeightsSpec spec;
  std::set<std::string> seen;
  if (text != "on") {
    const auto items = parse_key_values(text, ',');
    if (!items) return Status::usage(usage);
    for (const auto& [key, value] : *items) {
      if (!seen.insert(key).second) return Status::usage("--share-weights '" + text + "': " + key + " given twice");
      if (!set_item(key, value, rounds, &spec)) return Status::usage(usage);
    }
  }
  if (spec.after == 0) spec.after = rounds / 2;
  if (spec.after < 1) return Status::usage("--share-weights needs --rounds 2 or more (it clusters at the end of a round and trains the centroids after it)");
  for (const char* key : {"prune_after", "prune_steps", "restart_lr"})
    if (seen.count(key) && spec.sparsity == 0)
      return Status::usage("--share-weights '" + text + "': " + key + " without sparsity=S (the fraction to prune)");
  if (spec.sparsity > 0) {
    if (spec.prune_after == 0) spec.prune_after = spec.after / 2;
    if (spec.prune_after < 1 || spec.prune_after >= spec.after)
      return Status::usage("--share-weights '" + text + "': pruning must end a round before sharing (prune_after " +
                           std::to_string(spec.prune_after) + ", after " + std::to_string(spec.after) +
                           "): the kept weights retrain in between");
    if (spec.prune_steps > spec.prune_after)
      return Status::usage("--share-weights '" + text + "': prune_steps " + std::to_string(spec.prune_steps) +
                           " in " + std::to_string(spec.prune_after) + " rounds (one step a round at most)");
  }
  return spec;
}

double ShareWeightsSpec::sparsity_at(int64_t round) const {
  if (sparsity <= 0) return 0;
  for (int64_t t = 1; t <= prune_steps; ++t) {
    const double f = static_cast<double>(t) / static_cast<double>(prune_steps);
    if (round == std::llround(static_cast<double>(prune_after) * f)) return sparsity * (1 - std::pow(1 - f, 3));
  }
  return 0;
}

int64_t ShareWeightsSpec::first_pruning_round() const {
  if (sparsity <= 0) return 0;
  return std::llround(static_cast<double>(prune_after) / static_cast<double>(prune_steps));
}

std::string share_weights_identity(const ShareWeightsSpec& spec) {
  std::string id = "bits=" + std::to_string(spec.bits) + ",after=" + std::to_string(spec.after);
  if (spec.sparsity > 0)
    id += ",sparsity=" + exact_number(spec.sparsity) + ",prune_after=" + std::to_string(spec.prune_after) +
          ",prune_steps=" + std::to_string(spec.prune_steps) + (spec.restart_lr ? ",restart_lr=1" : "");
  return id;
}

}  // namespace xfed::coordinator
