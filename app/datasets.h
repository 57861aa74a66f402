// Datasets by name (--dataset): a registered loader makes a run's training and test sets
// from its settings (data directory, seed, …). The built-ins — fashion-mnist, mnist, cifar10,
// synthetic — register through register_dataset like a user's loader
// (examples/stripes_dataset.cc). Every set a loader returns is checked before use.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/run_config.h"
#include "core/dataset.h"
#include "core/status.h"

namespace xfed::app {

// with_test false: the training set alone is needed (an edge device training on its own
// data); a loader may then leave `test` empty. Errors name the flag or file.
using DatasetLoader = std::function<Result<TrainTestData>(const RunConfig& config, bool with_test)>;

// Adds a loader under `name` for --dataset; refuses a taken or malformed name.
Status register_dataset(const std::string& name, DatasetLoader loader);
// The datasets a program registered beyond the built-ins (its run identity names them).
std::vector<std::string> added_dataset_names();

// config.dataset's loader, its sets checked (images float32 [N, C, H, W], labels int64 [N]
// in [0, classes)); every error is a UsageError naming --dataset or the file.
TrainTestData load_data(const RunConfig& config, bool with_test = true);

}  // namespace xfed::app
