// From a RunConfig to the pieces of a run: data, partition, model, coordinator options.
// Every user mistake found here (missing file, bad partition/strategy/widths) is thrown as
// a UsageError naming the flag or file, which the CLI turns into exit code 2.
#pragma once

#include <memory>

#include "app/datasets.h"
#include "app/output_paths.h"
#include "app/run_config.h"
#include "coordinator/coordinator.h"
#include "core/client_data.h"
#include "core/dataset.h"
#include "core/model.h"
#include "worker/client_state_file.h"

namespace xfed::app {

struct RunSetup {
  std::shared_ptr<const Dataset> test;
  std::shared_ptr<const PartitionedData> clients;
  ModelSpec spec;
  coordinator::CoordinatorOptions coordinator;
  worker::ResumePoint resume;  // --resume: the checkpoint's round (0: none) and structure
};

// `edge_worker`: the setup of `xfed worker`, which may run the coordinator's TorchScript
// archive (--model torchscript) and checks it when it comes.
RunSetup make_run_setup(const RunConfig& config, bool edge_worker = false);
// The initial global model: a pure function of (spec, seed) (core/model.h).
using ::xfed::make_initial_model;
// Number of worker threads/ranks to use for simulate.
int worker_threads(const RunConfig& config, int64_t clients_per_round);

}  // namespace xfed::app
