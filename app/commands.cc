#include "app/commands.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/compact_commands.h"
#include "app/model_flag.h"
#include "app/roles.h"
#include "app/run_outputs.h"
#include "app/run_setup.h"
#include "app/simulation.h"
#include "coordinator/model_file.h"
#include "core/evaluate.h"
#include "core/log.h"
#include "deploy/xdc_file.h"
#include "pruning/gram.h"

namespace xfed::app {
namespace {

void log_client_histograms(const PartitionedData& clients, const Dataset& test) {
  constexpr int64_t kShown = 20;
  for (int64_t c = 0; c < std::min(clients.num_clients(), kShown); ++c) {
    std::string line = "client " + std::to_string(c) + " class histogram:";
    for (auto n : clients.client_data(c).class_histogram()) line += " " + std::to_string(n);
    log_info(line);
  }
  if (clients.num_clients() > kShown)
    log_info("(" + std::to_string(clients.num_clients() - kShown) + " more clients)");
  log_info("test set: " + std::to_string(test.size()) + " samples");
}

}  // namespace

int simulate_command(const RunConfig& c) {
  set_log_verbose(c.verbose);
  use_single_intraop_thread();
  check_output_paths(c);
  const auto setup = make_run_setup(c);
  RunOutputs outputs(c, setup);
  const int64_t per_round = std::max<int64_t>(1, std::llround(c.fraction * c.clients));
  const int threads = worker_threads(c, per_round);
  const auto initial = make_initial_model(setup.spec, c.seed);
  if (!c.quiet)
    std::printf("xfed simulate: %s, %s (%lld params), %lld clients (%s), %d worker threads\n",
                c.dataset.c_str(), c.model.c_str(), static_cast<long long>(initial->num_params()),
                static_cast<long long>(c.clients), c.partition.c_str(), threads);
  if (!c.quiet && setup.coordinator.prune)
    std::printf("pruning statistics: Gram matrices on %s\n", pruning::gram_path_name());
  if (c.verbose) log_client_histograms(*setup.clients, *setup.test);
  return outputs.finish(run_simulation(setup, initial, threads, outputs.observers()));
}

int eval_command(const EvalConfig& c) {
  use_single_intraop_thread();
  if (deploy::is_xdc_file(c.model_file)) return eval_compact_command(c);
  const bool scripted = coordinator::is_torchscript_file(c.model_file);
  Net net = scripted ? nullptr : coordinator::load_model_file(c.model_file).value_or_throw<UsageError>();
  const auto data = load_data(c.data);
  if (scripted) net = load_saved_torchscript(c.model_file, data.test);
  const auto& spec = net->spec();
  const auto& test = data.test;
  if (spec.in_channels != test.channels() || spec.height != test.height() ||
      spec.width != test.width() || spec.classes != test.classes)
    throw UsageError(c.model_file + ": model expects " + std::to_string(spec.in_channels) + "x" +
                     std::to_string(spec.height) + "x" + std::to_string(spec.width) + " inputs and " +
                     std::to_string(spec.classes) + " classes; --dataset " + c.data.dataset +
                     " has " + std::to_string(test.channels()) + "x" + std::to_string(test.height()) +
                     "x" + std::to_string(test.width()) + " and " + std::to_string(test.classes));
  const auto start = std::chrono::steady_clock::now();
  const auto r = evaluate(*net, test);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json j{{"model", c.model_file}, {"dataset", data.name}, {"test_accuracy", r.accuracy},
                   {"test_loss", r.loss}, {"params", net->num_params()}, {"flops", net->flops()},
                   {"seconds", seconds}};
  std::cout << j.dump() << std::endl;
  return 0;
}

int di_score_command(const DiScoreConfig& c) {
  std::cout << di_score_json(c).value_or_throw<UsageError>() << std::endl;
  return 0;
}

}  // namespace xfed::app
