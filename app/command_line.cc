// The `xfed` command line: flags and subcommands (simulate | mpi | coordinator | worker | eval |
// export | di-score | keygen); each command is a function of app/commands.h, or of
// app/transport_commands.h for those that run over a transport (the only place that knows
// which transports were built).
#include "app/command_line.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>

#include "app/cli_flags.h"
#include "app/commands.h"
#include "app/compact_commands.h"
#include "app/transport_commands.h"
#include "core/check.h"

namespace xfed::app {
namespace {

std::vector<std::string> args_of(int argc, char** argv) { return {argv, argv + argc}; }

int main_impl(int argc, char** argv) {
  CLI::App app{"xfed: federated training with compressed communication and DI pruning"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)->always_capture_default();
  app.require_subcommand(1);
  RunConfig sim;
  auto* simulate = app.add_subcommand("simulate", "coordinator + N clients in one process");
  add_run_flags(simulate, &sim);
  add_attack_flag(simulate, &sim);
  RunConfig mpi_config;
  auto* mpi = app.add_subcommand("mpi", "one run as an MPI job: mpirun -np N xfed mpi [flags] (rank 0 "
                                        "coordinates, ranks 1..N-1 train; --threads per rank, default 1)");
  add_run_flags(mpi, &mpi_config);
  add_attack_flag(mpi, &mpi_config);
  RunConfig coordinator_config, worker_config;
  EdgeConfig coordinator_edge, worker_edge;
  auto* coordinator = app.add_subcommand(
      "coordinator", "edge: the coordinator process over ZeroMQ/TCP: xfed coordinator --bind tcp://HOST:PORT "
                     "--key K.key --authorized-keys FILE [flags]");
  add_run_flags(coordinator, &coordinator_config);
  add_edge_flags(coordinator, &coordinator_edge, true);
  auto* worker = app.add_subcommand(
      "worker", "edge: a worker process: xfed worker --connect tcp://HOST:PORT --key K.key --server-key "
                "C.pub --client K [flags] (the same run flags as the coordinator)");
  add_run_flags(worker, &worker_config);
  add_edge_flags(worker, &worker_edge, false);
  EvalConfig ev;
  auto* eval = app.add_subcommand("eval", "evaluate a saved model (--save-model) or an .xdc file (xfed export) on a "
                                          "test set");
  eval->add_option("--load-model", ev.model_file, "model file (.xdc: computed from its compact formats)")->required();
  add_data_flags(eval, &ev.data);
  eval->add_option("--seed", ev.data.seed, "seed of a synthetic dataset")
      ->check(whole_in(0, std::numeric_limits<int64_t>::max()));

  ExportConfig ex;
  auto* exp = app.add_subcommand("export", "write a saved mlp or lenet5 model as an .xdc file for devices: weights "
                                           "shared (--bits), per layer dense/CSR/CER/CSER, indices Huffman-coded");
  exp->add_option("--load-model", ex.model_file, "model file (--save-model)")->required();
  exp->add_option("--out", ex.out, "the .xdc file to write")->required();
  exp->add_option("--format", ex.format, "auto (per layer the smallest), dense, csr, cer or cser");
  exp->add_option("--bits", ex.bits, "share 2^B values per layer by k-means (1..16); 0 keeps the weights")
      ->check(whole_in(0, 16));

  std::string key_name;
  auto* keygen = app.add_subcommand("keygen", "write a CURVE key pair for the edge transport: NAME.key "
                                              "(secret, 0600) and NAME.pub");
  keygen->add_option("--out", key_name, "NAME: writes NAME.key and NAME.pub (never replaces a key)")->required();

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
                     "' (expected simulate, mpi, coordinator, worker, eval, export, di-score or keygen; see xfed --help)");
  try {
    if (args.size() > 1 && args[1] == "simulate") args = expand_config_file(args, *simulate);
    if (args.size() > 1 && args[1] == "mpi") args = expand_config_file(args, *mpi);
    if (args.size() > 1 && args[1] == "coordinator") args = expand_config_file(args, *coordinator);
    if (args.size() > 1 && args[1] == "worker") args = expand_config_file(args, *worker);
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
  if (simulate->parsed()) return simulate_command(sim);
  if (mpi->parsed()) return run_over_transport("mpi", mpi_config, {});
  if (coordinator->parsed()) return run_over_transport("coordinator", coordinator_config, coordinator_edge);
  if (worker->parsed()) return run_over_transport("worker", worker_config, worker_edge);
  if (di->parsed()) return di_score_command(ds);
  if (keygen->parsed()) return write_edge_keys(key_name);
  if (exp->parsed()) return export_command(ex);
  return eval_command(ev);
}

}  // namespace

int run_command_line(int argc, char** argv) {
  try {
    return main_impl(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "xfed: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xfed: fatal: %s\n", one_line(e).c_str());
    return 1;
  }
}

}  // namespace xfed::app
