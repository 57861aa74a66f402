#include "worker/local_trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

#include <mutex>
#include <optional>

#include "core/channels_last.h"
#include "core/rng.h"
#include "core/pruned_zeros.h"
#include "core/weight_clusters.h"
#include "worker/mlp_trainer.h"

namespace xfed::worker {
namespace {

// Adds mu * (w - w_round) to each parameter's gradient.
void add_proximal_gradient(const std::vector<at::Tensor>& params,
                           const std::vector<at::Tensor>& round_params, double mu) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    auto& g = params[i].mutable_grad();
    if (g.defined()) g.add_(params[i] - round_params[i], mu);
  }
}

// A model whose forward draws random numbers from LibTorch's default generator (dropout in a
// TorchScript forward, which cannot be handed a generator) runs each training forward with
// the default generator holding this task's own stream, swapped in and out under the
// process-wide lock that model builds take: a task's draws then depend on its seed alone,
// whatever thread or process trains it (one model under simulate, mpirun and edge workers).
class TaskRandomness {
 public:
  TaskRandomness(const NetImpl& net, uint64_t seed)
      : used_(net.draws_random_numbers()),
        stream_(at::make_generator<at::CPUGeneratorImpl>(mix_seed(seed, kStreamModelDraws))) {}

  at::Tensor forward(NetImpl& net, const at::Tensor& x) {
    if (!used_) return net.forward(x);
    std::lock_guard<std::mutex> lock(global_generator_mutex());
    auto global = at::detail::getDefaultCPUGenerator();
    const auto saved = global.get_state();
    global.set_state(stream_.get_state());
    struct Restore {  // also when the forward throws
      at::Generator& global;
      at::Generator& stream;
      const at::Tensor& saved;
      ~Restore() {
        stream.set_state(global.get_state());
        global.set_state(saved);
      }
    } restore{global, stream_, saved};
    return net.forward(x);
  }

 private:
  bool used_;
  at::Generator stream_;
};

}  // namespace

TrainResult train_locally(NetImpl& net, const Dataset& data,
                          const TrainOptions& task) {
  return is_plain_mlp(net) ? train_mlp(net, data, task) : train_autograd(net, data, task);
}

TrainResult train_autograd(NetImpl& net, const Dataset& data,
                           const TrainOptions& task) {
  net.train();
  // Shared weights' clusters index the parameters in NCHW order: those train as they are.
  std::optional<ChannelsLastScope> channels_last;
  if (task.shared_weights == 0) channels_last.emplace(net);
  auto params = net.parameters();
  std::vector<at::Tensor> round_params;
  if (task.prox_mu > 0)
    for (const auto& p : params) round_params.push_back(p.detach().clone());
  torch::optim::SGD opt(params, torch::optim::SGDOptions(task.lr)
                                    .momentum(task.momentum)
                                    .weight_decay(task.weight_decay));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(task.seed);
  TaskRandomness randomness(net, task.seed);
  std::optional<ParameterClusters> clusters;
  if (task.shared_weights > 0) clusters.emplace(net);
  std::optional<PrunedZeroGradients> pruned;
  if (task.pruned_zeros) pruned.emplace(net);
  const int64_t n = data.size();
  const bool skip_single = net.has_batchnorm() && n >= 2;  // BatchNorm: no batch of one
  double loss_sum = 0;
  int64_t batches = 0;
  for (int64_t epoch = 0; epoch < task.local_epochs; ++epoch) {
    const auto perm = at::randperm(n, gen, at::kLong);
    for (int64_t start = 0; start < n; start += task.batch) {
      const int64_t len = std::min<int64_t>(task.batch, n - start);
      if (len < 2 && skip_single) break;
      const auto idx = perm.narrow(0, start, len);
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(randomness.forward(net, data.images.index_select(0, idx)),
                                                       data.labels.index_select(0, idx));
      loss.backward();
      if (clusters) clusters->share_gradients();
      if (pruned) pruned->apply();
      if (task.prox_mu > 0) add_proximal_gradient(params, round_params, task.prox_mu);
      opt.step();
      loss_sum += loss.item<double>();
      ++batches;
    }
  }
  return TrainResult{n, batches ? loss_sum / batches : 0.0};
}

}  // namespace xfed::worker
