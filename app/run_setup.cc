#include "app/run_setup.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <thread>

#include "app/resume_check.h"
#include "compression/pipeline.h"
#include "core/cifar_reader.h"
#include "core/file_io.h"
#include "core/idx_reader.h"
#include "core/parse.h"
#include "core/rng.h"
#include "core/synthetic.h"
#include "pruning/planner.h"

namespace xfed::app {
namespace {

constexpr int64_t kMaxSyntheticValues = int64_t{1} << 30;  // 4 GiB of float32

std::vector<int64_t> positive_list(const std::string& text, char sep, const std::string& flag) {
  const auto list = parse_int_list(text, sep, 1, int64_t{1} << 24);
  if (!list)
    throw UsageError(flag + " '" + text + "': expected whole numbers in [1, 16777216] separated by '" +
                     std::string(1, sep) + "'");
  return *list;
}

SyntheticOptions synthetic_options(const RunConfig& c) {
  const auto shape = positive_list(c.synthetic_shape, 'x', "--synthetic-shape");
  if (shape.size() != 3)
    throw UsageError("--synthetic-shape '" + c.synthetic_shape + "': expected CxHxW, e.g. 1x28x28");
  const double values = double(shape[0]) * double(shape[1]) * double(shape[2]) *
                        double(c.synthetic_train + c.synthetic_test);
  if (values > double(kMaxSyntheticValues))
    throw UsageError("--synthetic-shape '" + c.synthetic_shape + "' with " +
                     std::to_string(c.synthetic_train + c.synthetic_test) + " samples: " +
                     short_number(values) + " values, at most " + std::to_string(kMaxSyntheticValues));
  SyntheticOptions o;
  o.channels = shape[0];
  o.height = shape[1];
  o.width = shape[2];
  o.classes = c.synthetic_classes;
  o.train_size = c.synthetic_train;
  o.test_size = c.synthetic_test;
  o.noise = c.synthetic_noise;
  o.seed = mix_seed(c.seed, 101);
  return o;
}

std::vector<int64_t> labels_of(const Dataset& d) {
  const auto l = d.labels.contiguous();
  return std::vector<int64_t>(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
}

}  // namespace

TrainTestData load_data(const RunConfig& c, bool with_test) {
  if (c.dataset == "synthetic") return make_synthetic(synthetic_options(c));
  if (c.dataset == "cifar10")
    return load_cifar10_dir(c.data_dir.empty() ? "data/cifar-10-batches-bin" : c.data_dir, with_test)
        .value_or_throw<UsageError>();
  if (c.dataset == "mnist")
    return load_mnist_dir(c.data_dir.empty() ? "/usr/share/datasets/mnist" : c.data_dir, "mnist",
                          0.1307, 0.3081, with_test)
        .value_or_throw<UsageError>();
  if (c.dataset == "fashion-mnist")
    return load_mnist_dir(c.data_dir.empty() ? "/usr/share/datasets/fashion-mnist" : c.data_dir,
                          "fashion-mnist", 0.2860, 0.3530, with_test)
        .value_or_throw<UsageError>();
  throw UsageError("--dataset '" + c.dataset + "': expected fashion-mnist, mnist, cifar10 or synthetic");
}

int worker_threads(const RunConfig& c, int64_t clients_per_round) {
  int64_t t = c.threads > 0 ? c.threads : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::clamp<int64_t>(t, 1, std::max<int64_t>(1, clients_per_round)));
}


RunSetup make_run_setup(const RunConfig& c) {
  if (c.min_clients > c.clients)
    throw UsageError("--min-clients " + std::to_string(c.min_clients) + " is more than --clients " +
                     std::to_string(c.clients) + ": no round could ever close");
  auto data = load_data(c);
  RunSetup s;
  s.test = std::make_shared<const Dataset>(data.test);
  const auto& train = data.train;  // kept only as the client-ordered copy below
  const auto pspec = PartitionSpec::parse(c.partition).value_or_throw<UsageError>();
  auto partition = make_partition(labels_of(train), train.classes, pspec, c.clients, c.seed)
                       .value_or_throw<UsageError>();
  s.clients = std::make_shared<const PartitionedData>(train, std::move(partition));
  const auto widths = c.widths.empty() ? std::vector<int64_t>{} : positive_list(c.widths, ',', "--widths");
  s.spec = make_spec(c.model, train.channels(), train.height(), train.width(), train.classes, widths)
               .value_or_throw<UsageError>();
  if (c.batch == 1 && make_model(s.spec)->has_batchnorm())
    throw UsageError("--batch 1: model " + c.model + " has BatchNorm, which needs batches of 2 or more");
  auto& o = s.coordinator;
  o.clients = c.clients;
  o.fraction = c.fraction;
  o.rounds = c.rounds;
  o.seed = c.seed;
  o.task.lr = c.lr;
  o.task.momentum = c.momentum;
  o.task.weight_decay = c.weight_decay;
  o.task.local_epochs = static_cast<uint32_t>(c.local_epochs);
  o.task.batch = static_cast<uint32_t>(c.batch);
  o.lr_decay = c.lr_decay;
  o.strategy = coordinator::parse_strategy(c.strategy, c.server_lr).value_or_throw<UsageError>();
  o.task.uplink = compression::Pipeline::parse(c.compress, "--compress").value_or_throw<UsageError>();
  o.task.error_feedback = !c.no_error_feedback;
  o.task.ef_momentum = c.ef_momentum;
  o.downlink = compression::Pipeline::parse(c.downlink, "--downlink").value_or_throw<UsageError>();
  o.sparsity_warmup = c.sparsity_warmup;
  o.warmup_start_ratio = c.warmup_start_ratio;
  if (c.prune != "none") {
    o.prune = pruning::PruneOptions::parse(c.prune).value_or_throw<UsageError>();
    if (auto st = pruning::check_criterion(o.prune->criterion, *make_model(s.spec)); !st)
      throw UsageError(st.message());
  }
  if (!c.link.empty()) o.links = coordinator::parse_links(c.link).value_or_throw<UsageError>();
  o.round_timeout_s = c.round_timeout;
  o.straggler_timeout_s = c.straggler_timeout;
  o.min_clients = c.min_clients;
  o.max_update_norm = c.max_update_norm;
  o.eval_every = c.eval_every;
  o.client_sizes = s.clients->partition().sizes();
  o.checkpoint_dir = c.checkpoint_dir;
  o.checkpoint_every = c.checkpoint_every;
  o.resume = c.resume;
  if (c.resume && c.checkpoint_dir.empty()) throw UsageError("--resume needs --checkpoint-dir");
  o.run_identity = run_identity(c, train);
  if (c.resume) s.resume = check_resume(c, o.run_identity);
  return s;
}

}  // namespace xfed::app
