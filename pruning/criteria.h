// Pruning criteria: per prunable layer, a score per unit (higher = more important, kept
// first). Pure functions of the evidence gathered in a stats round and the model weights.
//
//   di      DiLOSS = 2 rho ||G_i||^2 (pruning/di.h)         needs class statistics
//   drop    exact DI(I) - DI(I without i)                   needs class statistics
//   fdr     single-unit FDR (cherry-picking)                needs class statistics
//   l1      L1 norm of the unit's incoming weights (Li et al. 2017); input features: of
//           their outgoing weights
//   bn      |gamma| of the unit's BatchNorm (network slimming); models without BN: error
//   taylor  |mean over samples of activation x dLoss/dactivation| (Molchanov et al.)
//   random  seeded uniform scores (the baseline every criterion must beat)
// Residual groups with several taps are scored as the sum over their taps.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "core/model.h"
#include "pruning/class_stats.h"
#include "pruning/di.h"
#include "pruning/evidence.h"

namespace xfed::pruning {

enum class Criterion { kDi, kDrop, kFdr, kL1, kBn, kTaylor, kRandom };

Result<Criterion> parse_criterion(const std::string& name);
const char* criterion_name(Criterion c);
bool needs_class_stats(Criterion c);
// Whether the criterion can score this model (bn: a BatchNorm on every prunable layer).
Status check_criterion(Criterion c, const NetImpl& model);

struct LayerScores {
  std::vector<at::Tensor> scores;  // per prunable layer, float64 [units]
  std::vector<double> di;          // per layer (sum over its taps); empty without stats
};

// `input_rho` applies to the layer named "input" (if any), `rho` to all others;
// `input_by_weights`: that layer is scored by l1 whatever the criterion (no statistics).
Result<LayerScores> score_layers(Criterion c, NetImpl& model, const Evidence& evidence,
                                 const RhoOptions& rho, uint64_t seed,
                                 const RhoOptions& input_rho = {}, bool input_by_weights = false);

}  // namespace xfed::pruning
