// xfed's public API, all of it: include <xfed/xfed.h> and link xfed::xfed
// (find_package(xfed CONFIG REQUIRED) against an installed xfed).
//   xfed/model.h       your own model: NetImpl, register_model
//   xfed/aggregator.h  your own aggregation rule: register_aggregator
//   xfed/compression.h your own compression stage: register_stage
//   xfed/strategy.h    your own server optimizer (and FedProx weight): register_strategy
//   xfed/dataset.h     your own dataset: register_dataset
//   xfed/simulation.h  a federation in this process: RunConfig, run_simulation
//   xfed/cli.h         the xfed command line with your registrations: run_command_line
#pragma once

#include "xfed/aggregator.h"
#include "xfed/cli.h"
#include "xfed/compression.h"
#include "xfed/dataset.h"
#include "xfed/model.h"
#include "xfed/simulation.h"
#include "xfed/strategy.h"
