// `xfed di-score`: DI / DiLOSS / FDR / exact drop scores of one layer from plain files, so
// any layer of any model can be scored and the math checked against an independent
// implementation. activations: CSV, one row per sample, one column per unit (a first row
// that is not numeric is taken as a header); labels: one integer class per row.
#pragma once

#include <string>

#include "core/status.h"

namespace xfed::app {

struct DiScoreConfig {
  std::string activations;
  std::string labels;
  double rho = 0;        // > 0: absolute rho
  double rho_scale = 5;  // else rho = rho_scale * tr(Sbar) / M
};

// The JSON the command prints: {"di", "rho", "diloss", "fdr", "drop"}.
Result<std::string> di_score_json(const DiScoreConfig& config);

}  // namespace xfed::app
