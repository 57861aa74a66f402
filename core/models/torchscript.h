// A TorchScript model (`--model torchscript:FILE.pt`): a scripted or traced PyTorch module
// from an archive, as a NetImpl. Its parameters and floating buffers (BatchNorm's running
// statistics) are the model state, registered under their names with '.' written '_', and
// shared with the module, so that what xfed writes into the state is what the script
// computes with; training runs the scripted forward with autograd (worker/local_trainer.h).
// Not prunable: it describes no prunable layers.
#pragma once

#include <memory>
#include <string>

#include "core/model.h"

namespace xfed {

constexpr const char* kTorchScriptFamily = "torchscript";
constexpr uint64_t kMaxTorchScriptBytes = uint64_t{256} << 20;

// Registers the family `torchscript`, whose models are loaded from `archive` (the file's
// bytes), once per process: another archive later is refused. `source` names it in errors.
Status register_torchscript_family(std::shared_ptr<const std::string> archive, const std::string& source);

// The checks before round 1, each a one-line usage error naming `source`: the archive loads
// as TorchScript, has a forward, whose output on a batch of two zero inputs of the spec's
// shape is a float tensor [2, classes], and its weights are finite.
Status check_torchscript_model(const ModelSpec& spec, const std::string& source);

}  // namespace xfed
