// Fast local training for Mlp models: forward with addmm, backward written out by hand
// (softmax-cross-entropy, ReLU masks, weight/bias gradients) and one fused SGD pass per
// tensor (momentum, weight decay, FedProx term). No autograd graph is built.
//
// Why: on this 2-core box the autograd step of LeNet-300-100 at batch 64 costs ~1.5 ms, of
// which only ~0.8 ms are the GEMMs; this path costs ~1.0 ms (bench/round_overhead). It
// computes exactly what the autograd path (local_trainer.cc) computes — same batches, same
// update rule as torch::optim::SGD — which tests/trainer_test.cc checks step by step.
#pragma once

#include "core/dataset.h"
#include "core/model.h"
#include "worker/local_trainer.h"

namespace xfed::worker {

// The built-in mlp, or a TorchScript model proven to be the same chain (is_scripted_mlp).
bool is_plain_mlp(const NetImpl& net);

// Precondition: is_plain_mlp(net).
TrainResult train_mlp(NetImpl& net, const Dataset& data, const TrainOptions& options);

}  // namespace xfed::worker
