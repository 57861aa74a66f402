// Small synthetic federations for end-to-end tests: a RunConfig that trains in well under
// a second, a recorder of round reports, and transport decorators for failure injection.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "app/run_config.h"
#include "app/run_setup.h"
#include "app/simulation.h"
#include "core/coding.h"
#include "core/metrics.h"
#include "transport/transport.h"

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
  c.batch = 32;
  c.local_epochs = 2;
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

}  // namespace xfed::testing
