// Round-overhead benchmark: how much a simulated xfed round costs over the bare compute of
// the same clients' local training, and how it compares with a plain PyTorch FedAvg loop.
//
//   floor (xfed trainer)   : train_locally() for every client of the round, T threads,
//                            no frames, transport, aggregation or evaluation
//   floor (LibTorch loop)  : the same with the generic autograd + torch::optim::SGD path
//   xfed simulate          : full rounds (frames, transport, aggregation), eval at the end
//   xfed simulate + eval   : the CLI default (test evaluation every round)
//   plain PyTorch FedAvg   : bench/pytorch_fedavg.py (sequential clients, DataLoader)
//
// Usage: build/bin/bench_round_overhead [--rounds R] [--threads T] [--no-python]
// All rows are measured in this one run; compare ratios, not absolute times.
#include <ATen/ATen.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "app/run_setup.h"
#include "app/simulation.h"
#include "core/model_state.h"
#include "worker/local_trainer.h"
#include "worker/worker.h"

using namespace xfed;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  int rounds = 6;
  int threads = 2;
  bool python = true;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) a.rounds = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) a.threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-python")) a.python = false;
  }
  return a;
}

using Trainer = worker::TrainResult (*)(NetImpl&, const Dataset&, const worker::TrainOptions&);

// Seconds per round of training every client from the same global state on T threads.
double compute_floor(const app::RunSetup& s, const at::Tensor& global, int rounds, int threads,
                     Trainer train) {
  const int64_t clients = s.clients->num_clients();
  double total = 0;
  for (int r = 0; r < rounds; ++r) {
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t, r] {
        app::use_single_intraop_thread();
        Net net = make_model(s.spec);
        for (int64_t c = t; c < clients; c += threads) {
          write_state(*net, global);
          const auto options = worker::train_options(s.coordinator.task, static_cast<uint64_t>(r * 1000 + c));
          train(*net, s.clients->client_data(c), options);
        }
      });
    }
    for (auto& p : pool) p.join();
    if (r > 0) total += std::chrono::duration<double>(Clock::now() - start).count();
  }
  return total / (rounds - 1);
}

// Mean seconds per simulated round, skipping round 1 (warm-up).
double simulated(app::RunSetup s, int rounds, int threads, int eval_every) {
  s.coordinator.rounds = rounds;
  s.coordinator.eval_every = eval_every;
  struct Timer : RoundObserver {
    double total = 0;
    void on_round(const RoundReport& r) override { total += r.round > 1 ? r.seconds : 0; }
    void on_finish(const RunSummary&) override {}
  } timer;
  auto r = app::run_simulation(s, app::make_initial_model(s.spec, 1), threads, {&timer});
  if (!r) throw Error(r.message());
  return timer.total / (rounds - 1);
}

double python_fedavg(int rounds) {
  const std::string cmd = "/usr/bin/python3 " XFED_SOURCE_DIR "/bench/pytorch_fedavg.py --rounds " +
                          std::to_string(rounds) + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string out;
  std::array<char, 512> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  if (pclose(p) != 0 || out.empty()) return -1;
  return nlohmann::json::parse(out)["seconds_per_round"].get<double>();
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  app::use_single_intraop_thread();
  app::RunConfig config;  // the CLI defaults: Fashion-MNIST, mlp, 10 clients, iid
  const auto setup = app::make_run_setup(config);
  const auto global = read_state(*app::make_initial_model(setup.spec, 1));
  std::printf("round overhead: fashion-mnist, mlp, 10 clients, 1 epoch, batch 64, %d threads, "
              "%d rounds each (first not timed)\n\n",
              a.threads, a.rounds);
  const double floor_fast = compute_floor(setup, global, a.rounds, a.threads, worker::train_locally);
  const double floor_plain = compute_floor(setup, global, a.rounds, a.threads, worker::train_autograd);
  const double sim = simulated(setup, a.rounds, a.threads, 1 << 30);
  const double sim_eval = simulated(setup, a.rounds, a.threads, 1);
  const double py = a.python ? python_fedavg(std::max(2, a.rounds / 2)) : -1;
  std::printf("| %-40s | %9s | %-44s |\n", "measurement", "s/round", "ratio");
  std::printf("|%s|%s|%s|\n", std::string(42, '-').c_str(), std::string(11, '-').c_str(),
              std::string(46, '-').c_str());
  auto row = [](const char* name, double s, const std::string& ratio) {
    std::printf("| %-40s | %9.3f | %-44s |\n", name, s, ratio.c_str());
  };
  auto fmt = [](const char* what, double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.2fx %s", v, what);
    return std::string(b);
  };
  row("compute floor (xfed trainer)", floor_fast, "1.00x");
  row("compute floor (LibTorch autograd loop)", floor_plain, fmt("of xfed floor", floor_plain / floor_fast));
  row("xfed simulate (eval at end)", sim, fmt("of xfed floor (goal <= 1.15)", sim / floor_fast));
  row("xfed simulate (eval every round)", sim_eval, fmt("of xfed floor", sim_eval / floor_fast));
  if (py > 0) {
    row("plain PyTorch FedAvg (python3-torch)", py, fmt("slower than xfed+eval (goal >= 2.5)", py / sim_eval));
  } else {
    std::printf("(plain PyTorch row skipped: /usr/bin/python3 with torch not available)\n");
  }
  return 0;
}
