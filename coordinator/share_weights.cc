#include "coordinator/share_weights.h"

#include <set>

#include "core/parse.h"

namespace xfed::coordinator {

Result<ShareWeightsSpec> parse_share_weights(const std::string& text, int64_t rounds) {
  const std::string usage = "--share-weights '" + text + "': expected on, or bits=B,after=R (any of them) with B a "
                            "whole number in [1, 16] and R one in [1, " + std::to_string(rounds - 1) + "] (a round before the last)";
  ShareWeightsSpec spec;
  if (text != "on") {
    const auto items = parse_key_values(text, ',');
    if (!items) return Status::usage(usage);
    std::set<std::string> seen;
    for (const auto& [key, value] : *items) {
      if (!seen.insert(key).second) return Status::usage("--share-weights '" + text + "': " + key + " given twice");
      int64_t n = 0;
      if (!parse_int64(value, &n)) return Status::usage(usage);
      if (key == "bits" && n >= 1 && n <= 16) {
        spec.bits = static_cast<int>(n);
      } else if (key == "after" && n >= 1 && n < rounds) {
        spec.after = n;
      } else {
        return Status::usage(usage);
      }
    }
  }
  if (spec.after == 0) spec.after = rounds / 2;
  if (spec.after < 1) return Status::usage("--share-weights needs --rounds 2 or more (it clusters at the end of a round and trains the centroids after it)");
  return spec;
}

std::string share_weights_identity(const ShareWeightsSpec& spec) {
  return "bits=" + std::to_string(spec.bits) + ",after=" + std::to_string(spec.after);
}

}  // namespace xfed::coordinator
