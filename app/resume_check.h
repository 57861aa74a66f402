// What a resumed run must agree on with its checkpoint, checked before round 1.
//
// run_identity(config, data) lists the settings that define a run ("--key=value" lines:
// data and its shape, model, federation, training, compression, pruning, seed): what the
// checkpoint records. Settings that may change between a stop and a resume (--rounds
// upward, --threads, outputs, deadlines, verbosity) are not in it.
//
// check_resume(config, identity) loads DIR/checkpoint.xfed and returns the round and model
// structure it holds (round 0 when there is none yet: the run starts at round 1). A corrupt checkpoint, one made
// with other settings (the first differing flag is named) or one already past --rounds is
// a UsageError: one line, exit 2, nothing trained.
#pragma once

#include <cstdint>
#include <string>

#include "app/run_config.h"
#include "core/dataset.h"
#include "worker/client_state_file.h"

namespace xfed::app {

std::string run_identity(const RunConfig& config, const Dataset& train);
worker::ResumePoint check_resume(const RunConfig& config, const std::string& identity);

}  // namespace xfed::app
