// Local training of one client for one round: E epochs of minibatch SGD (momentum, weight
// decay) over the client's data, batches drawn by index_select on a permutation seeded by
// the options' seed only. FedProx adds mu/2 ||w - w_round||^2 to the loss (as mu (w - w_round)
// on the gradient). Deterministic for a given (model, data, options): no global RNG is used.
// With shared weights (options.shared_weights > 0) each weight matrix's gradient is averaged
// over the weights that share its value before the step (core/weight_clusters.h), so equal
// weights stay equal; FedProx's term and weight decay act per weight. With pruned zeros
// (options.pruned_zeros) the gradient of every zero weight of a matrix is zeroed before the
// step (core/pruned_zeros.h), so pruned weights stay zero.
// Runs on the calling thread; the caller owns the Net. Knows nothing of the wire: the worker
// takes TrainOptions (core/train_options.h) from the round's task, with the client's seed.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/dataset.h"
#include "core/model.h"
#include "core/train_options.h"

namespace xfed::worker {

using xfed::TrainOptions;  // seed: the batch order

struct TrainResult {
  int64_t samples = 0;
  double mean_loss = 0.0;  // over all batches of all epochs
};

// Dispatches to the fast MLP path (mlp_trainer.h) where it applies, else train_autograd.
TrainResult train_locally(NetImpl& net, const Dataset& data, const TrainOptions& options);
// The generic path: LibTorch autograd + torch::optim::SGD, any model.
TrainResult train_autograd(NetImpl& net, const Dataset& data, const TrainOptions& options);

}  // namespace xfed::worker
