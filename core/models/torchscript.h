// A TorchScript model (`--model torchscript:FILE.pt`): a scripted or traced PyTorch module
// from an archive, as a NetImpl. Its parameters and floating buffers (BatchNorm's running
// statistics) are the model state, registered under their names with '.' written '_', and
// shared with the module, so that what xfed writes into the state is what the script
// computes with; training runs the scripted forward with autograd (worker/local_trainer.h).
// Prunable where xfed proves its forward a chain (core/models/torchscript_chain.h): its
// Linear/Conv2d layers but the last; a spec with widths narrows them. The archive is code: a worker gets it
// from its coordinator (protocol::ModelCode) or reads its own file.
#pragma once

#include <memory>
#include <string>

#include "core/model.h"

namespace xfed {

constexpr const char* kTorchScriptFamily = "torchscript";
constexpr uint64_t kMaxTorchScriptBytes = uint64_t{256} << 20;

// Registers the family `torchscript` (idempotent), whose models are loaded from this
// process's archive. A worker registers it before its archive comes from the coordinator;
// building a model until then is an error that says so.
Status register_torchscript_family();
// Sets this process's archive, once: the same bytes again are fine, another archive is
// refused (a process runs one model's code). `source` names it in errors.
Status set_torchscript_archive(std::shared_ptr<const std::string> archive, const std::string& source);
// This process's archive; null until set.
std::shared_ptr<const std::string> torchscript_archive();

// The checks before round 1, each a one-line usage error naming `source`: the archive loads
// as TorchScript, has a forward, whose output on a batch of two zero inputs of the spec's
// shape is a float tensor [2, classes], and its weights are finite.
Status check_torchscript_model(const ModelSpec& spec, const std::string& source);

// Whether `net` is a TorchScript model whose forward is provably flatten, then Linear and
// ReLU alternating, ending in a Linear (core/models/torchscript_chain.h), with its weights
// and biases registered in the order they run and no buffers: what the hand-written MLP
// trainer (worker/mlp_trainer.h) computes exactly.
bool is_scripted_mlp(const NetImpl& net);
// One line for the log: the chain xfed proved ("a chain of flatten, linear(fc1), relu, ...")
// or what blocks the proof.
std::string scripted_structure(const NetImpl& net);
// Why a TorchScript model has no prunable layers ("" if it has).
std::string scripted_pruning_blocker(const NetImpl& net);

// A TorchScript archive of `net` (a model of this family) with its current weights and
// buffers, in eval mode: what --save-model writes, loadable by torch.jit.load and by
// `xfed eval`. An error if `net` is not a TorchScript model.
Result<std::string> torchscript_archive_with_state(NetImpl& net);

}  // namespace xfed
