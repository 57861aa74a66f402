// The `xfed` command: simulate | eval (more subcommands join as backends land).
// Exit codes: 0 success, 1 a run failed, 2 bad usage / config / data (one line on stderr).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "coordinator/model_file.h"
#include "core/evaluate.h"
#include "core/log.h"
#include "examples/cli_flags.h"
#include "examples/progress.h"
#include "examples/run_setup.h"
#include "examples/simulation.h"

namespace xfed::cli {
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

int run_simulate(const RunConfig& c) {
  set_log_verbose(c.verbose);
  use_single_intraop_thread();
  auto setup = make_run_setup(c);
  std::unique_ptr<JsonlMetricsWriter> metrics;
  if (!c.metrics.empty())
    metrics = JsonlMetricsWriter::open(c.metrics, c.resume).value_or_throw<UsageError>();
  ProgressPrinter progress(stdout);
  std::vector<RoundObserver*> observers;
  if (metrics) observers.push_back(metrics.get());
  if (!c.quiet) observers.push_back(&progress);
  const int64_t per_round = std::max<int64_t>(1, std::llround(c.fraction * c.clients));
  const int threads = worker_threads(c, per_round);
  if (!c.quiet)
    std::printf("xfed simulate: %s, %s (%lld params), %lld clients (%s), %d worker threads\n",
                c.dataset.c_str(), c.model.c_str(),
                static_cast<long long>(make_model(setup.spec)->num_params()),
                static_cast<long long>(c.clients), c.partition.c_str(), threads);
  if (c.verbose) log_client_histograms(*setup.clients, *setup.test);
  auto result = run_simulation(setup, make_initial_model(setup.spec, c.seed), threads, observers);
  if (!result) {
    log_error(result.message());
    return 1;
  }
  if (!c.save_model.empty()) {
    if (auto st = coordinator::save_model_file(c.save_model, *result.value().model); !st) {
      log_error(st.message());
      return 1;
    }
  }
  return 0;
}

struct EvalConfig {
  RunConfig data;
  std::string model_file;
};

int run_eval(const EvalConfig& c) {
  use_single_intraop_thread();
  auto net = coordinator::load_model_file(c.model_file).value_or_throw<UsageError>();
  const auto data = load_data(c.data);
  const auto& spec = net->spec();
  const auto& test = data.test;
  if (spec.in_channels != test.channels() || spec.height != test.height() ||
      spec.width != test.width() || spec.classes != test.classes)
    throw UsageError(c.model_file + ": model expects " + std::to_string(spec.in_channels) + "x" +
                     std::to_string(spec.height) + "x" + std::to_string(spec.width) + " inputs and " +
                     std::to_string(spec.classes) + " classes; --dataset " + c.data.dataset +
                     " has " + std::to_string(test.channels()) + "x" + std::to_string(test.height()) +
                     "x" + std::to_string(test.width()) + " and " + std::to_string(test.classes));
  const auto r = evaluate(*net, test);
  nlohmann::json j{{"model", c.model_file}, {"dataset", data.name}, {"test_accuracy", r.accuracy},
                   {"test_loss", r.loss}, {"params", net->num_params()}, {"flops", net->flops()}};
  std::cout << j.dump() << std::endl;
  return 0;
}

std::vector<std::string> args_of(int argc, char** argv) { return {argv, argv + argc}; }

int main_impl(int argc, char** argv) {
  CLI::App app{"xfed: federated training with compressed communication and DI pruning"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.require_subcommand(1);
  RunConfig sim;
  auto* simulate = app.add_subcommand("simulate", "coordinator + N clients in one process");
  add_run_flags(simulate, &sim);
  EvalConfig ev;
  auto* eval = app.add_subcommand("eval", "evaluate a saved model (--save-model) on a test set");
  eval->add_option("--load-model", ev.model_file, "model file")->required();
  add_data_flags(eval, &ev.data);
  eval->add_option("--seed", ev.data.seed, "seed of a synthetic dataset");

  auto args = args_of(argc, argv);
  if (args.size() > 1 && args[1][0] != '-' && args[1] != "simulate" && args[1] != "eval")
    throw UsageError("unknown command '" + args[1] + "' (expected simulate or eval; see xfed --help)");
  try {
    if (args.size() > 1 && args[1] == "simulate") args = expand_config_file(args, *simulate);
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);  // CLI11 wants reversed
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const auto subs = app.get_subcommands();
    std::fprintf(stderr, "xfed: error: %s (see xfed%s --help)\n", e.what(),
                 subs.empty() ? "" : (" " + subs[0]->get_name()).c_str());
    return 2;
  }
  if (simulate->parsed()) return run_simulate(sim);
  return run_eval(ev);
}

}  // namespace
}  // namespace xfed::cli

int main(int argc, char** argv) {
  try {
    return xfed::cli::main_impl(argc, argv);
  } catch (const xfed::UsageError& e) {
    std::fprintf(stderr, "xfed: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xfed: fatal: %s\n", e.what());
    return 1;
  }
}
