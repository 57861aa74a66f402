// The edge run under the faults a fleet of devices meets every day, as real processes: a
// worker killed and restarted with the same key before the coordinator noticed it was gone,
// the same worker started twice, a coordinator paused past its workers' liveness, and a
// coordinator stopped with SIGTERM. No --round-timeout anywhere: each must end or go on under
// the default flags, never wait forever. Every process is bounded and ended by pid.
#include <signal.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "tests/edge_fixture.h"

namespace xfed::testing {
namespace {

using namespace std::chrono_literals;

// Every sampled client trained or is counted missing, in every round; the rounds and the summary.
void expect_complete_rounds(const std::string& metrics, int rounds) {
  const auto lines = read_jsonl(metrics);
  ASSERT_EQ(lines.size(), static_cast<size_t>(rounds) + 1) << "the rounds and the summary";
  for (int i = 0; i < rounds; ++i)
    EXPECT_EQ(lines[i]["clients"].get<int64_t>() + lines[i]["missing"].get<int64_t>(), lines[i]["sampled"].get<int64_t>())
        << "round " << i + 1;
  EXPECT_TRUE(lines.back().value("summary", false));
}

bool wait_for_output(Process& p, const std::string& text, std::chrono::seconds timeout = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (p.output().find(text) == std::string::npos)
    if (std::chrono::steady_clock::now() > deadline) return false;
    else std::this_thread::sleep_for(20ms);
  return true;
}

// A coordinator and two workers (clients 0 and 1) running `run`, two rounds done.
class EdgeFaults : public EdgeRun {
 protected:
  void start(const std::string& run) {
    authorize(2);
    co_ = coordinator(run + "--metrics " + metrics());
    w1_ = worker("w1", "0", run);
    w2_ = worker("w2", "1", run);
    ASSERT_TRUE(wait_for_rounds(metrics(), 2)) << co_->output();
  }
  std::string metrics() const { return dir_.file("edge.jsonl"); }
  std::unique_ptr<Process> co_, w1_, w2_;
};

// A liveness far longer than a process start: the restarted worker is back before the old one
// could be noticed gone. The tasks the killed process had can never be answered: they are
// missing, and the new process (a new join: the full model) trains in the rounds after.
TEST_F(EdgeFaults, AWorkerRestartedBeforeItsLossIsNoticedIsTakenBackAndNoRoundWaitsForTheOldOne) {
  const std::string run = kSlowRun + "--clients 2 --rounds 14 --heartbeat 1 --liveness 60 ";
  ASSERT_NO_FATAL_FAILURE(start(run));
  w2_->kill_now();
  auto again = worker("w2", "1", run);
  expect_exit(*co_, 0, "coordinator");
  for (auto* w : {w1_.get(), again.get()}) expect_exit(*w, 0, "worker");
  expect_complete_rounds(metrics(), 14);
  const auto rounds = read_jsonl(metrics());
  EXPECT_EQ(rounds[13]["clients"], 2) << "the restarted worker trains";
  EXPECT_NE(co_->output().find("replaces the old one"), std::string::npos) << co_->output();
}

// The same key started twice by mistake: the second replaces the first, which is told so and
// stops with a clear line (exit 2); the run goes on with the second.
TEST_F(EdgeFaults, TheSameWorkerStartedTwiceKeepsTheSecondAndTheFirstStopsSayingWhy) {
  const std::string run = kSlowRun + "--clients 2 --rounds 14 ";
  ASSERT_NO_FATAL_FAILURE(start(run));
  auto twin = std::make_unique<Process>(worker_command("w2", "1", run), dir_.file("twin.log"));
  expect_exit(*w2_, 2, "the first process of w2");
  EXPECT_TRUE(std::regex_search(w2_->output(), std::regex("refused this worker: another process with this worker's "
                                                          "key \\(worker [12]\\) connected after it and replaced it")))
      << w2_->output();
  expect_exit(*co_, 0, "coordinator");
  for (auto* w : {w1_.get(), twin.get()}) expect_exit(*w, 0, "worker");
  expect_complete_rounds(metrics(), 14);
  EXPECT_EQ(read_jsonl(metrics())[13]["clients"], 2) << "the second process trains";
}

// A coordinator stopped (SIGSTOP) for several times its liveness: on waking, the silence was
// its own, not its workers'. It keeps them (or takes them back as they say hello) and ends
// the run with its summary.
TEST_F(EdgeFaults, ACoordinatorPausedPastItsLivenessTakesItsWorkersBackAndFinishes) {
  const std::string run = kSlowRun + "--clients 2 --rounds 10 ";
  ASSERT_NO_FATAL_FAILURE(start(run));
  co_->signal(SIGSTOP);
  ASSERT_TRUE(wait_for_output(*w1_, "is silent")) << w1_->output();  // the workers noticed: 5 x 0.2 s
  std::this_thread::sleep_for(3s);
  co_->signal(SIGCONT);
  expect_exit(*co_, 0, "coordinator");
  for (auto* w : {w1_.get(), w2_.get()}) expect_exit(*w, 0, "worker");
  expect_complete_rounds(metrics(), 10);
  EXPECT_EQ(read_jsonl(metrics())[9]["clients"], 2);
}

// SIGTERM (as Ctrl-C) on the coordinator: it tells its workers, which stop at once with a
// line that says why, far inside their 120 s reconnect timeout; the coordinator exits 1.
TEST_F(EdgeFaults, SigtermOnTheCoordinatorStopsItsWorkersAtOnce) {
  const std::string run = kSlowRun + "--clients 2 --rounds 200 ";
  ASSERT_NO_FATAL_FAILURE(start(run));
  co_->signal(SIGTERM);
  const auto code = co_->wait_for(30s);
  ASSERT_TRUE(code.has_value()) << co_->output();
  EXPECT_EQ(*code, 1) << co_->output();
  EXPECT_NE(co_->output().find("SIGTERM"), std::string::npos) << co_->output();
  for (auto* w : {w1_.get(), w2_.get()}) {
    const auto got = w->wait_for(30s);
    ASSERT_TRUE(got.has_value()) << w->output();
    EXPECT_EQ(*got, 0) << w->output();
    EXPECT_NE(w->output().find("the coordinator stopped the run"), std::string::npos) << w->output();
  }
}

}  // namespace
}  // namespace xfed::testing
