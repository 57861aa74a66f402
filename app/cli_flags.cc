#include "app/cli_flags.h"

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "core/check.h"
#include "core/file_io.h"
#include "core/parse.h"

namespace xfed::app {
namespace {

// Every number from outside is finite and in range (CLI11's own validators compare with <
// and >, which NaN passes). Bounds are what the code can honour: sizes fit the 32-bit wire
// fields, times fit a nanosecond clock.
constexpr int64_t kMaxCount = int64_t{1} << 24;    // clients, rounds, epochs, batch, samples
constexpr double kMaxSeconds = 1e6;                // ~11 days; nanoseconds stay in int64

void add_dataset_flags(CLI::App* app, RunConfig* c) {
  // Checked by the dataset registry (app/datasets.h), which knows the program's own datasets.
  app->add_option("--dataset", c->dataset,
                  "fashion-mnist | mnist | cifar10 | synthetic | a dataset your program registered");
  app->add_option("--data-dir", c->data_dir,
                  "dataset directory (default: /usr/share/datasets/fashion-mnist for "
                  "fashion-mnist)");
  app->add_option("--partition", c->partition, "iid | dirichlet:ALPHA | shards:K");
  app->add_option("--synthetic-shape", c->synthetic_shape, "synthetic sample shape CxHxW");
  app->add_option("--synthetic-classes", c->synthetic_classes)->check(whole_in(2, 1000));
  app->add_option("--synthetic-train", c->synthetic_train)->check(whole_in(1, kMaxCount));
  app->add_option("--synthetic-test", c->synthetic_test)->check(whole_in(1, kMaxCount));
  app->add_option("--synthetic-noise", c->synthetic_noise, "std of the noise around class means")
      ->check(number_in(0, 1e6));
}

// The knobs of TrainOptions that are flags, with the ranges they declare.
void add_train_option_flags(CLI::App* app, TrainOptions* t) {
  TrainOptions::visit(*t, [app](const Knob& k, auto& field) {
    if (!k.flag) return;
    auto* opt = app->add_option(k.flag, field, k.help);
    if (k.wire == Knob::Wire::kF64) {
      opt->check(number_in(k.lo, k.hi, k.lo_open));
    } else {
      opt->check(whole_in(static_cast<int64_t>(k.lo), static_cast<int64_t>(k.hi)));
    }
  });
}

void add_training_flags(CLI::App* app, RunConfig* c) {
  app->add_option("--model", c->model,
                  "mlp | lenet5 | vgg | resnet20 | torchscript:FILE.pt (a PyTorch model; an edge worker: "
                  "torchscript, the coordinator's archive) | a model your program registered");
  app->add_option("--model-sha256", c->model_sha256,
                  "with a TorchScript model: the archive's SHA-256 (sha256sum FILE.pt); any other is refused");
  app->add_option("--widths", c->widths, "prunable layer widths, e.g. 300,100 for mlp");
  app->add_option("--clients", c->clients, "number of clients")->check(whole_in(1, 1000000));
  app->add_option("--fraction", c->fraction, "fraction of clients sampled per round")
      ->check(number_in(0, 1, true));
  app->add_option("--rounds", c->rounds)->check(whole_in(1, kMaxCount));
  add_train_option_flags(app, &c->train);
  app->add_option("--lr-decay", c->lr_decay, "client lr multiplier per round")
      ->check(number_in(1e-6, 1));
  app->add_option("--strategy", c->strategy, "fedavg | fedprox:MU | fedavgm | fedadam | fedyogi | a strategy your program registered");
  app->add_option("--aggregate", c->aggregate,
                  "how the round's updates are combined: mean (sample-weighted) | median (coordinate-wise) | "
                  "trimmed:BETA (drop BETA of each end per coordinate) | krum:F | multikrum:F[:M] (F hostile "
                  "clients, M kept) | cclip:TAU[:ITERS] (centered clipping) | an aggregator your program "
                  "registered (NAME[:ARG])");
  app->add_option("--dp", c->dp,
                  "client-level differential privacy (DP-FedAvg): clip=C,noise=Z[,mode=central|local|distributed]"
                  "[,adaptive=QUANTILE][,delta=D]"
                  "[,target_epsilon=E][,seed=S]: Poisson sampling with --fraction, each update clipped to C, "
                  "N(0, (Z C)^2) noise on the sum, epsilon in the metrics (delta 1e-5; seed: repeatable noise, "
                  "experiments only)");
  app->add_flag("--secure-aggregation{on}", c->secure_aggregation,
               "secure aggregation (SecAgg+): the coordinator learns only the sum of the updates and of DI "
               "pruning's class statistics. Optional =threshold=T,degree=K,range=R,bits=B,stats_range=A: K "
               "neighbours per client (default 2 log2 n, even), T of their shares recover a dropped client "
               "(default K/2+1), values clipped to [-R, R] (default 0.1) as B-bit fixed point (default 16), "
               "activations clipped to [-A, A] in the statistics (default 16). Uplink none or randk:R "
               "(positions from the round's seed); the mean is unweighted")
      ->take_last();
  app->add_option("--share-weights", c->share_weights,
                  "trained weight sharing (Deep Compression, federated): "
                  "bits=B[,after=R][,sparsity=S[,prune_after=P][,prune_steps=N][,restart_lr=1]] or on: at the end "
                  "of round R the weight matrices are clustered into 2^B values each (k-means), then clients train "
                  "the centroids and send only their change (defaults bits=4, after=half the rounds); with S > 0 the "
                  "fraction S of their entries with the smallest magnitude is set to zero in N gradual steps "
                  "(default 1) ending with round P (default R/2) and stays zero while the rest retrains (zero is then "
                  "one of the 2^B values), with restart_lr=1 the --lr-decay starting again after each step; --prune "
                  "ends where pruning or sharing starts; needs a lossless --downlink")
      ->check([](const std::string& v) { return v.empty() ? std::string("empty: give bits=B[,after=R] or on") : ""; });
  app->add_option("--server-lr", c->server_lr,
                  "server learning rate (default 1, or 0.01 for fedadam/fedyogi)")
      ->check(number_in(0, 1e3, true));
  app->add_option("--compress", c->compress,
                  "uplink compression, e.g. none | fp16 | qsgd:8 | topk:0.01,qsgd:4,zstd:3");
  app->add_option("--downlink", c->downlink,
                  "downlink compression of the model's change, e.g. nonzero,qsgd:3,zstd (the round's "
                  "sparse aggregate) | topk:0.01,qsgd:8 (none: full model each round)");
  app->add_flag("--no-error-feedback", c->no_error_feedback,
                "drop what a lossy uplink did not send instead of keeping it");
  app->add_option("--ef-momentum", c->ef_momentum, "DGC momentum correction on clients (0: off)")
      ->check(number_in(0, 0.999));
  app->add_option("--sparsity-warmup", c->sparsity_warmup,
                  "rounds over which the uplink sparsity ratio decays to its target")
      ->check(whole_in(0, kMaxCount));
  app->add_option("--warmup-start-ratio", c->warmup_start_ratio,
                  "uplink ratio in round 1 of the warm-up (default 4x the target)")
      ->check(number_in(0, 1));
  app->add_option("--prune", c->prune,
                  "federated structured pruning CRITERION[:key=value,...], e.g. di:target=0.1 "
                  "(criteria di|drop|fdr|l1|bn|taylor|random; keys in the README; none: off)");
  app->add_option("--link", c->link,
                  "modelled client links BANDWIDTH[:LATENCY][,...], e.g. 1mbit:50ms");
  app->add_option("--seed", c->seed)->check(whole_in(0, std::numeric_limits<int64_t>::max()));
}

void add_run_control_flags(CLI::App* app, RunConfig* c) {
  app->add_option("--config", c->config_file, "TOML or JSON file of flag values");
  app->add_option("--threads", c->threads, "worker threads (simulate: default the cores; mpi and edge workers: per process, default 1)")
      ->check(whole_in(0, 1024));
  app->add_option("--metrics", c->metrics, "write per-round metrics as JSONL to this file");
  app->add_option("--checkpoint-dir", c->checkpoint_dir, "save a checkpoint here");
  app->add_option("--checkpoint-every", c->checkpoint_every, "rounds between checkpoints")
      ->check(whole_in(1, kMaxCount));
  app->add_flag("--resume", c->resume, "continue from the checkpoint in --checkpoint-dir");
  app->add_option("--save-model", c->save_model, "write the final model to this file");
  app->add_option("--eval-every", c->eval_every, "rounds between test evaluations")
      ->check(whole_in(1, kMaxCount));
  app->add_option("--round-timeout", c->round_timeout,
                  "seconds to wait for clients per round (0: wait for all)")
      ->check(number_in(0, kMaxSeconds));
  app->add_option("--straggler-timeout", c->straggler_timeout,
                  "with --round-timeout 0: clients still silent this many seconds after a round's last "
                  "answer are missing, as are workers silent that long in the check before round 1 (0: no limit)")
      ->check(number_in(0, kMaxSeconds));
  app->add_option("--min-clients", c->min_clients,
                  "updates needed to close a round at the deadline (at most --clients)")
      ->check(whole_in(1, 1000000));
  app->add_option("--max-update-norm", c->max_update_norm,
                  "refuse an update whose L2 norm is above this (0: no limit; NaN/Inf always refused)")
      ->check(number_in(0, 1e30));
  app->add_flag("--quiet", c->quiet, "no progress output");
  app->add_flag("--verbose", c->verbose, "log more");
}

constexpr uint64_t kMaxConfigBytes = 1 << 20;

std::string read_text(const std::string& path) {
  auto text = read_text_file(path, kMaxConfigBytes);
  if (!text) throw UsageError("--config " + text.message());
  return text.value();
}

// JSON value of an option that takes a value -> its text.
std::string flag_value(const nlohmann::json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) {
    std::ostringstream os;
    os.precision(17);
    os << v.get<double>();
    return os.str();
  }
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + flag_value(e, where);
    return s;
  }
  throw UsageError(where + ": unsupported value type (use strings, numbers, booleans or arrays)");
}

// JSON itself allows a key twice (the last wins); a config must not: which value was meant?
// `lr_decay` and `lr-decay` are the same key. TOML refuses duplicates itself.
nlohmann::json parse_json_config(const std::string& text, const std::string& path) {
  std::vector<std::set<std::string>> seen;  // per open object
  const auto refuse_duplicates = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) seen.emplace_back();
    if (event == Event::object_end && !seen.empty()) seen.pop_back();
    if (event != Event::key || seen.empty()) return true;
    std::string key = parsed.get<std::string>();
    std::replace(key.begin(), key.end(), '_', '-');
    if (!seen.back().insert(key).second)
      throw UsageError("--config " + path + ": the key '" + parsed.get<std::string>() + "' is given twice");
    return true;
  };
  return nlohmann::json::parse(text, refuse_duplicates);
}

nlohmann::json parse_config_text(const std::string& text, const std::string& path) {
  const bool is_json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  try {
    if (is_json) return parse_json_config(text, path);
    const auto table = toml::parse(text, path);
    std::ostringstream os;
    os << toml::json_formatter{table};
    return nlohmann::json::parse(os.str());
  } catch (const toml::parse_error& e) {
    throw UsageError("--config " + path + ": " + std::string(e.description()) + " (line " +
                     std::to_string(e.source().begin.line) + ")");
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw UsageError("--config " + path + ": " + e.what());
  }
}

std::string config_path(const std::vector<std::string>& argv) {
  std::string path;
  for (size_t i = 2; i < argv.size(); ++i) {
    if (argv[i] == "--config" && i + 1 < argv.size()) path = argv[i + 1];
    if (argv[i].rfind("--config=", 0) == 0) path = argv[i].substr(9);
  }
  return path;
}

std::string allowed_keys(const CLI::App& app) {
  std::string s;
  for (const auto* opt : app.get_options()) {
    const auto& names = opt->get_lnames();
    if (names.empty() || names[0] == "help" || names[0] == "config") continue;
    s += (s.empty() ? "" : ", ") + names[0];
  }
  return s;
}

}  // namespace

CLI::Validator number_in(double lo, double hi, bool lo_open) {
  return CLI::Validator([=](std::string& text) { return check_number(text, lo, hi, lo_open); },
                        range_text(lo, hi, lo_open));
}

CLI::Validator whole_in(int64_t lo, int64_t hi) {
  return CLI::Validator([=](std::string& text) { return check_whole_number(text, lo, hi); },
                        "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

// tcp://HOST:PORT with PORT in 1..65535 ('*' too for --bind: any free port); "" when valid.
static std::string check_endpoint(const std::string& text, bool bind) {
  const std::string scheme = "tcp://";
  const auto colon = text.rfind(':');
  const std::string expected = bind ? "tcp://HOST:PORT (PORT 1..65535, or * for any free port)" : "tcp://HOST:PORT (PORT 1..65535)";
  if (text.rfind(scheme, 0) != 0 || colon == std::string::npos || colon <= scheme.size())
    return "'" + text + "': expected " + expected;
  const std::string port = text.substr(colon + 1);
  if (bind && port == "*") return "";
  int64_t value = 0;
  if (!parse_int64(port, &value) || value < 1 || value > 65535)
    return "'" + text + "': the port '" + port + "' is not in 1..65535";
  return "";
}

static CLI::Validator endpoint_of(bool bind) {
  return CLI::Validator([=](std::string& text) { return check_endpoint(text, bind); }, "tcp://HOST:PORT");
}

void add_data_flags(CLI::App* app, RunConfig* config) { add_dataset_flags(app, config); }

void add_edge_flags(CLI::App* app, EdgeConfig* e, bool coordinator) {
  app->add_option("--key", e->key_file, "this process's key pair: NAME.key from `xfed keygen --out NAME`");
  if (coordinator) {
    app->add_option("--bind", e->endpoint, "where workers connect: tcp://HOST:PORT (tcp://0.0.0.0:5555)")
        ->required()
        ->check(endpoint_of(true));
    app->add_option("--authorized-keys", e->authorized_keys,
                    "the workers' public keys, one a line ('#' comments): the only keys admitted")
        ->required();
    app->add_option("--wait-workers", e->wait_workers,
                    "seconds to wait before round 1 for every authorized worker (then late ones join as they come)")
        ->check(number_in(0, kMaxSeconds));
  } else {
    app->add_option("--connect", e->endpoint, "the coordinator: tcp://HOST:PORT")->required()->check(endpoint_of(false));
    app->add_option("--server-key", e->server_key, "the coordinator's public key: its NAME.pub, or the Z85 text");
    app->add_option("--client", e->clients,
                    "the clients this worker trains: K or K1,K2,... (partitions of the dataset); without it, "
                    "the training set in --data-dir is this device's own data, one client");
    app->add_option("--connect-timeout", e->connect_timeout, "seconds to wait for the coordinator's first welcome")
        ->check(number_in(0, kMaxSeconds, true));
    app->add_option("--reconnect-timeout", e->reconnect_timeout,
                    "seconds a worker keeps calling a coordinator it lost before it gives up")
        ->check(number_in(0, kMaxSeconds, true));
  }
  app->add_flag("--insecure", e->insecure, "no CURVE: plaintext and unauthenticated (both sides; test networks only)");
  app->add_option("--heartbeat", e->heartbeat, "seconds of silence before a heartbeat")
      ->check(number_in(0.001, 3600));
  app->add_option("--liveness", e->liveness, "heartbeats of silence before a peer counts as lost")
      ->check(whole_in(1, 1000));
}

void add_attack_flag(CLI::App* app, RunConfig* c) {
  app->add_option("--attack", c->attack,
                  "KIND:K[,scale=S]: K clients (chosen by the seed) are hostile, to measure defences: signflip "
                  "(-S x own update, S 1) | scaled (S x own, S 10) | gaussian (N(0, S^2), S 1) | alie (mean - "
                  "z x std of the honest, z from the paper or S) | ipm (-S x honest mean, S 10) | labelflip "
                  "(labels y -> classes-1-y on their data)");
}

void add_run_flags(CLI::App* app, RunConfig* config) {
  add_dataset_flags(app, config);
  add_training_flags(app, config);
  add_run_control_flags(app, config);
}

std::vector<std::string> expand_config_file(const std::vector<std::string>& argv,
                                            const CLI::App& subcommand) {
  const std::string path = config_path(argv);
  if (path.empty()) return argv;
  return expand_config_text(argv, read_text(path), path, subcommand);
}

std::vector<std::string> expand_config_text(const std::vector<std::string>& argv, const std::string& text,
                                            const std::string& path, const CLI::App& subcommand) {
  const auto config = parse_config_text(text, path);
  if (!config.is_object()) throw UsageError("--config " + path + ": expected a table of keys");
  std::vector<std::string> inserted;
  for (const auto& [raw_key, value] : config.items()) {
    std::string key = raw_key;
    for (auto& ch : key) ch = ch == '_' ? '-' : ch;
    const auto* opt = subcommand.get_option_no_throw("--" + key);
    if (!opt || key == "config" || key == "help")
      throw UsageError("--config " + path + ": unknown key '" + raw_key + "' (allowed: " +
                       allowed_keys(subcommand) + ")");
    const std::string where = "--config " + path + ": key '" + raw_key + "'";
    const bool is_flag = opt->get_expected_min() == 0;  // present or not: takes no value
    if (is_flag != value.is_boolean())
      throw UsageError(where + (is_flag ? ": expected true or false" : ": expected a value, not a boolean"));
    if (is_flag) {
      if (value.get<bool>()) inserted.push_back("--" + key);  // false: the flag stays off
    } else {
      inserted.push_back("--" + key + "=" + flag_value(value, where));
    }
  }
  std::vector<std::string> out(argv.begin(), argv.begin() + 2);
  out.insert(out.end(), inserted.begin(), inserted.end());
  out.insert(out.end(), argv.begin() + 2, argv.end());
  return out;
}

}  // namespace xfed::app
