// The `xfed` command: simulate | eval (more subcommands join as backends land).
// Exit codes: 0 success, 1 a run failed, 2 bad usage / config / data (one line on stderr).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "coordinator/model_file.h"
#include "core/evaluate.h"
#include "core/file_io.h"
#include "core/log.h"
#include "app/cli_flags.h"
#include "app/di_score.h"
#include "app/progress.h"
#include "app/run_setup.h"
#include "app/simulation.h"
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

// The model file, plus FILE.json: kept units per layer (original numbering) and sizes.
Status save_with_summary(const std::string& path, const SimulationResult& r) {
  if (auto st = coordinator::save_model_file(path, *r.model); !st) return st;
  nlohmann::json kept = nlohmann::json::object();
  for (size_t l = 0; l < r.layers.size(); ++l) kept[r.layers[l]] = r.kept[l];
  nlohmann::json j{{"model_file", path},
                   {"spec", nlohmann::json::parse(r.model->spec().to_json())},
                   {"kept", kept},
                   {"params", r.model->num_params()},
                   {"flops", r.model->flops()},
                   {"bytes_fp32", r.model->num_params() * 4},
                   {"test_accuracy", r.summary.final_accuracy},
                   {"model_checksum", r.summary.model_checksum}};
  const std::string text = j.dump() + "\n";
  return write_file_atomically(path + ".json", Bytes(text.begin(), text.end()));
}

int run_simulate(const RunConfig& c) {
  set_log_verbose(c.verbose);
  use_single_intraop_thread();
  check_output_paths(c);
  auto setup = make_run_setup(c);
  std::unique_ptr<JsonlMetricsWriter> metrics;
  if (!c.metrics.empty())
    metrics = JsonlMetricsWriter::open(c.metrics, setup.resume.round).value_or_throw<UsageError>();
  const int64_t original_params = make_model(setup.spec)->num_params();
  ProgressPrinter progress(stdout, original_params);
  std::vector<RoundObserver*> observers;
  if (metrics) observers.push_back(metrics.get());
  if (!c.quiet) observers.push_back(&progress);
  const int64_t per_round = std::max<int64_t>(1, std::llround(c.fraction * c.clients));
  const int threads = worker_threads(c, per_round);
  if (!c.quiet)
    std::printf("xfed simulate: %s, %s (%lld params), %lld clients (%s), %d worker threads\n",
                c.dataset.c_str(), c.model.c_str(), static_cast<long long>(original_params),
                static_cast<long long>(c.clients), c.partition.c_str(), threads);
  if (!c.quiet && setup.coordinator.prune)
    std::printf("pruning statistics: Gram matrices on %s\n", pruning::gram_path_name());
  if (c.verbose) log_client_histograms(*setup.clients, *setup.test);
  auto result = run_simulation(setup, make_initial_model(setup.spec, c.seed), threads, observers);
  if (!result) {
    log_error(result.message());
    return 1;
  }
  if (metrics && !metrics->status()) return 1;  // logged when it happened
  if (!c.save_model.empty()) {
    if (auto st = save_with_summary(c.save_model, result.value()); !st) {
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
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)->always_capture_default();
  app.require_subcommand(1);
  RunConfig sim;
  auto* simulate = app.add_subcommand("simulate", "coordinator + N clients in one process");
  add_run_flags(simulate, &sim);
  EvalConfig ev;
  auto* eval = app.add_subcommand("eval", "evaluate a saved model (--save-model) on a test set");
  eval->add_option("--load-model", ev.model_file, "model file")->required();
  add_data_flags(eval, &ev.data);
  eval->add_option("--seed", ev.data.seed, "seed of a synthetic dataset")
      ->check(whole_in(0, std::numeric_limits<int64_t>::max()));

  DiScoreConfig ds;
  auto* di = app.add_subcommand("di-score", "DI/DiLOSS/FDR/drop scores of one layer from CSV files");
  di->add_option("--activations", ds.activations, "CSV: one row per sample, one column per unit")->required();
  di->add_option("--labels", ds.labels, "one class index per row")->required();
  di->add_option("--rho", ds.rho, "absolute ridge rho (default: rho-scale x tr(Sbar)/M)")
      ->check(number_in(0, 1e12, true));
  di->add_option("--rho-scale", ds.rho_scale, "rho = scale x tr(Sbar)/M (5)")->check(number_in(0, 1e6, true));

  auto args = args_of(argc, argv);
  const auto subs = app.get_subcommands([](const CLI::App*) { return true; });
  const bool known = args.size() > 1 && std::any_of(subs.begin(), subs.end(), [&](const CLI::App* a) {
    return a->get_name() == args[1];
  });
  if (args.size() > 1 && args[1][0] != '-' && !known)
    throw UsageError("unknown command '" + args[1] +
                     "' (expected simulate, eval or di-score; see xfed --help)");
  try {
    if (args.size() > 1 && args[1] == "simulate") args = expand_config_file(args, *simulate);
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);  // CLI11 wants reversed
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const auto parsed = app.get_subcommands();
    std::fprintf(stderr, "xfed: error: %s (see xfed%s --help)\n", e.what(),
                 parsed.empty() ? "" : (" " + parsed[0]->get_name()).c_str());
    return 2;
  }
  if (simulate->parsed()) return run_simulate(sim);
  if (di->parsed()) {
    std::cout << di_score_json(ds).value_or_throw<UsageError>() << std::endl;
    return 0;
  }
  return run_eval(ev);
}

}  // namespace
}  // namespace xfed::app

int main(int argc, char** argv) {
  try {
    return xfed::app::main_impl(argc, argv);
  } catch (const xfed::UsageError& e) {
    std::fprintf(stderr, "xfed: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xfed: fatal: %s\n", e.what());
    return 1;
  }
}
