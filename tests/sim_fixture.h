// Small synthetic federations for end-to-end tests: a RunConfig that trains in well under
// a second, a recorder of round reports, and transport decorators for failure injection.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "app/run_config.h"
#include "app/roles.h"
#include "app/run_setup.h"
#include "app/simulation.h"
#include "core/coding.h"
#include "core/metrics.h"
#include "transport/inproc/inproc_transport.h"
#include "transport/transport.h"
#include "worker/worker.h"

namespace xfed::testing {

inline app::RunConfig small_config() {
  app::RunConfig c;
  c.dataset = "synthetic";
  c.synthetic_shape = "1x8x8";
  c.synthetic_train = 1200;
  c.synthetic_test = 400;
  c.synthetic_noise = 1.5;
  c.clients = 6;
  c.rounds = 4;
  c.train.batch = 32;
  c.train.local_epochs = 2;
  c.widths = "32,16";
  c.quiet = true;
  return c;
}

class Recorder : public RoundObserver {
 public:
  void on_round(const RoundReport& r) override { rounds.push_back(r); }
  void on_finish(const RunSummary& s) override { summary = s; }
  std::vector<RoundReport> rounds;
  RunSummary summary;
};

// Runs a simulation (failing the test on error) with an optional recorder.
inline app::RunOutcome simulate(const app::RunConfig& c, int threads, Recorder* rec = nullptr) {
  auto setup = app::make_run_setup(c);
  std::vector<RoundObserver*> observers;
  if (rec) observers.push_back(rec);
  auto r = app::run_simulation(setup, app::make_initial_model(setup.spec, c.seed), threads, observers);
  EXPECT_TRUE(r) << r.message();
  return std::move(r).value();
}

// The run of `c` stopped after round `stop_after` with a checkpoint in `dir`, then resumed to
// c.rounds; `rec` sees the resumed rounds.
inline app::RunOutcome simulate_resumed(app::RunConfig c, int64_t stop_after, const std::string& dir, int threads,
                                        Recorder* rec = nullptr) {
  const int64_t rounds = c.rounds;
  c.checkpoint_dir = dir;
  c.rounds = stop_after;
  simulate(c, threads);
  c.rounds = rounds;
  c.resume = true;
  return simulate(c, threads, rec);
}

// Forwards to another transport; `before_send` may sleep or send extra frames first.
class HookedTransport : public transport::Transport {
 public:
  using Hook = std::function<void(transport::Transport& inner, int dest, const Bytes& bytes)>;
  HookedTransport(std::unique_ptr<transport::Transport> inner, Hook before_send)
      : inner_(std::move(inner)), hook_(std::move(before_send)) {}
  std::string name() const override { return "hooked-" + inner_->name(); }
  int rank() const override { return inner_->rank(); }
  int world_size() const override { return inner_->world_size(); }
  Status send(int dest, Bytes bytes) override {
    hook_(*inner_, dest, bytes);
    return inner_->send(dest, std::move(bytes));
  }
  transport::Received recv(const transport::RecvOptions& o) override { return inner_->recv(o); }

 private:
  std::unique_ptr<transport::Transport> inner_;
  Hook hook_;
};

// Forwards to another transport, sending `rewrite(frame)` in place of each frame.
class RewritingTransport : public transport::Transport {
 public:
  using Rewrite = std::function<Bytes(const Bytes&)>;
  RewritingTransport(std::unique_ptr<transport::Transport> inner, Rewrite rewrite)
      : inner_(std::move(inner)), rewrite_(std::move(rewrite)) {}
  std::string name() const override { return "rewriting-" + inner_->name(); }
  int rank() const override { return inner_->rank(); }
  int world_size() const override { return inner_->world_size(); }
  Status send(int dest, Bytes bytes) override { return inner_->send(dest, rewrite_(bytes)); }
  transport::Received recv(const transport::RecvOptions& o) override { return inner_->recv(o); }

 private:
  std::unique_ptr<transport::Transport> inner_;
  Rewrite rewrite_;
};

// Runs a federation of `threads` worker ranks over the in-process transport, each rank's
// transport made by `wrap(rank, its inproc transport)`. `home_ranks`: client -> rank (empty:
// balanced each round).
using WrapTransport = std::function<std::unique_ptr<transport::Transport>(int, std::unique_ptr<transport::Transport>)>;
inline app::RunOutcome simulate_wrapped(const app::RunConfig& c, int threads, const WrapTransport& wrap,
                                        Recorder* rec, std::vector<int> home_ranks = {}) {
  auto setup = app::make_run_setup(c);
  setup.coordinator.home_ranks = std::move(home_ranks);
  auto hub = std::make_shared<transport::InProcHub>(1 + threads);
  const auto options = app::worker_options(setup, std::make_shared<worker::ClientStateStore>(), "");
  std::vector<std::thread> workers;
  for (int rank = 1; rank <= threads; ++rank) {
    workers.emplace_back([&, rank] {
      app::use_single_intraop_thread();
      const auto t = wrap(rank, transport::make_inproc_transport({hub, rank}));
      EXPECT_TRUE(app::run_worker(setup.clients, *t, options));
    });
  }
  auto t0 = transport::make_inproc_transport({hub, 0});
  auto outcome = app::run_coordinator(setup, app::make_initial_model(setup.spec, c.seed), *t0,
                                     rec ? std::vector<RoundObserver*>{rec} : std::vector<RoundObserver*>{});
  for (auto& w : workers) w.join();
  EXPECT_TRUE(outcome) << outcome.message();
  return std::move(outcome).value();
}

// The same, `hook_for(rank)` running before each send of that rank.
inline app::RunOutcome simulate_hooked(const app::RunConfig& c, int threads,
                                       const std::function<HookedTransport::Hook(int)>& hook_for, Recorder* rec,
                                       std::vector<int> home_ranks = {}) {
  const WrapTransport wrap = [&](int rank, std::unique_ptr<transport::Transport> inner) {
    return std::unique_ptr<transport::Transport>(std::make_unique<HookedTransport>(std::move(inner), hook_for(rank)));
  };
  return simulate_wrapped(c, threads, wrap, rec, std::move(home_ranks));
}

// The same, every frame a worker sends replaced by `rewrite(frame)`.
inline app::RunOutcome simulate_rewritten(const app::RunConfig& c, int threads,
                                          const std::function<Bytes(const Bytes&)>& rewrite, Recorder* rec) {
  const WrapTransport wrap = [&](int, std::unique_ptr<transport::Transport> inner) {
    return std::unique_ptr<transport::Transport>(std::make_unique<RewritingTransport>(std::move(inner), rewrite));
  };
  return simulate_wrapped(c, threads, wrap, rec);
}

}  // namespace xfed::testing
