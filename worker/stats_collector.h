// Stats collection (protocol step 6, client side): forward passes over a seeded sample of
// the client's data with the model in eval mode, capturing every tap (post-activation
// output of a prunable layer) and accumulating its class statistics; conv taps are reduced
// per channel by global average pooling, or give one sample per position (spatial).
// Optionally also the Taylor sums (activation x gradient, which needs a backward pass) and
// client-side Gaussian noise. Deterministic for a given (model, data, request).
#pragma once

#include "core/dataset.h"
#include "core/model.h"
#include "pruning/evidence.h"

namespace xfed::worker {

struct StatsRequest {
  int64_t samples = 0;  // 0: all
  double noise = 0.0;
  bool spatial = false;
  bool taylor = false;
  bool skip_input = false;
  uint64_t seed = 0;
  pruning::ClassStats::Rounding rounding = pruning::ClassStats::Rounding::kBf16;  // pruning/bf16.h
  double clip_rms = 0.0;  // > 0: each activation vector clipped to this root mean square (--dp)
  double clip_abs = 0.0;  // > 0: each activation clipped to [-clip_abs, clip_abs] (secure aggregation)
};

// Evidence for every tap; a skipped input tap is left absent.
pruning::Evidence collect_evidence(NetImpl& net, const Dataset& data, const StatsRequest& request);

}  // namespace xfed::worker
