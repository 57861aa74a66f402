// Bring your own server optimizer: a ServerRule (how the round's aggregate moves the global
// parameters, with state the size of the parameters that xfed checkpoints and slices when
// it prunes), offered as a strategy with register_strategy and chosen with
// `--strategy NAME[:ARG]` (`--server-lr` overrides its learning rate). A strategy also sets
// the client objective's proximal weight (FedProx's mu; 0 for the plain loss). The built-in
// fedavg, fedprox, fedavgm, fedadam and fedyogi register the same way. It runs on the
// coordinator only, on every transport.
#pragma once

#include "coordinator/strategy.h"

namespace xfed {

using coordinator::ServerRule;
using coordinator::Strategy;
using coordinator::StrategyFactory;
using coordinator::fedadam_rule;
using coordinator::fedavg_rule;
using coordinator::fedavgm_rule;
using coordinator::fedyogi_rule;
using coordinator::register_strategy;

}  // namespace xfed
