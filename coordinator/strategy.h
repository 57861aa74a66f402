// Strategy: the --strategy flag, i.e. the client objective plus the server optimizer.
//   fedavg | fedprox:MU | fedavgm | fedadam | fedyogi
#pragma once

#include <string>

#include "coordinator/server_optimizer.h"
#include "core/status.h"

namespace xfed::coordinator {

struct Strategy {
  std::string name = "fedavg";
  double prox_mu = 0.0;
  ServerOptimizerOptions server;
};

// server_lr < 0 means "the strategy's default" (1.0, or 0.01 for fedadam/fedyogi).
Result<Strategy> parse_strategy(const std::string& text, double server_lr = -1.0);

}  // namespace xfed::coordinator
