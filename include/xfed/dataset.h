// Bring your own dataset: a loader that makes the training and test sets (images float32
// [N, C, H, W], normalized; labels int64 [N] in [0, classes)) from the run's settings,
// registered by name with register_dataset and chosen with `--dataset NAME`. Each process
// that trains or evaluates loads it, so a program that registers one hands its command line
// to xfed::run_command_line (xfed/cli.h). The built-ins register the same way.
#pragma once

#include "app/datasets.h"

namespace xfed {

using app::DatasetLoader;
using app::RunConfig;
using app::register_dataset;  // Dataset and TrainTestData: core/dataset.h

}  // namespace xfed
