// Bring your own aggregation rule: a function from the round's decoded client updates (in
// client-id order) to the one delta the server optimizer applies, registered by name with
// register_aggregator and chosen with `--aggregate NAME[:ARG]`. The built-in `mean` is
// registered the same way. It runs on the coordinator only, on every transport.
#pragma once

#include "coordinator/aggregator.h"

namespace xfed {

using coordinator::Aggregator;
using coordinator::AggregatorFactory;
using coordinator::ClientUpdate;
using coordinator::register_aggregator;

}  // namespace xfed
