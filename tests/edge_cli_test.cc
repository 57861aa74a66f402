// `xfed coordinator` and `xfed worker` as users start them: real processes over TCP on
// loopback, CURVE keys included. One model (the edge run ends on simulate's checksum; the
// bytes handed to zmq are the metrics' bytes plus heartbeats and headers), workers killed
// mid-run (their updates counted missing, the run goes on, a restarted one trains again), a
// worker that stalls and wakes, a coordinator killed and resumed (the uninterrupted checksum),
// devices with their own data, and every start-up error one line with a non-zero exit while
// the coordinator's run goes on untouched. Every process is bounded and ended by pid
// (tests/process.h).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <thread>

#include "tests/edge_fixture.h"

namespace xfed::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(EdgeRun, OneModelAsSimulateAndNoHiddenBytes) {
  const auto sim = xfed("simulate " + kRun + "--quiet --metrics " + dir_.file("sim.jsonl"), 180);
  ASSERT_EQ(sim.code, 0) << sim.out;
  authorize(3);
  auto co = coordinator(kRun + "--metrics " + dir_.file("edge.jsonl"));
  auto w1 = worker("w1", "0,3,6", kRun);
  auto w2 = worker("w2", "1,4,7", kRun);
  auto w3 = worker("w3", "2,5", kRun);
  expect_exit(*co, 0, "coordinator");
  for (auto* w : {w1.get(), w2.get(), w3.get()}) expect_exit(*w, 0, "worker");
  EXPECT_EQ(checksum_of(dir_.file("edge.jsonl")), checksum_of(dir_.file("sim.jsonl")));
  // What went through zmq is what the metrics count (up + down + other, both directions),
  // plus small change: a type byte per message, chunk headers, heartbeats, the handshakes.
  const auto summary = read_jsonl(dir_.file("edge.jsonl")).back();
  const int64_t counted = summary["total_bytes_up"].get<int64_t>() + summary["total_bytes_down"].get<int64_t>() +
                          summary["total_bytes_other"].get<int64_t>();
  std::smatch m;
  const std::string out = co->output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(zmq traffic at the coordinator: sent (\d+) messages \((\d+) bytes\), received (\d+) messages \((\d+) bytes\))")))
      << out;
  const int64_t handed = std::stoll(m[2]) + std::stoll(m[4]);
  EXPECT_GE(handed, counted);
  EXPECT_LE(handed, counted + counted / 100 + 65536) << "counted " << counted;
}

// Timing is the machine's: a worker process needs a second or more to start (several on a
// busy box), so the run is long enough (30 rounds) for the late and the restarted worker to
// join whatever the load, and the checks look for them, not for a given round.
TEST_F(EdgeRun, KilledWorkersAreMissingTheRunGoesOnAndARestartedOneTrainsAgain) {
  authorize(4);
  const std::string run = kSlowRun + "--clients 4 --rounds 30 --round-timeout 10 ";
  auto co = coordinator(run + "--wait-workers 3 --metrics " + dir_.file("edge.jsonl"));
  auto w1 = worker("w1", "0", run);
  auto w2 = worker("w2", "1", run);
  auto w3 = worker("w3", "2", run);
  ASSERT_TRUE(wait_for_rounds(dir_.file("edge.jsonl"), 1)) << co->output();
  auto w4 = worker("w4", "3", run);  // late: it joins a run under way
  ASSERT_TRUE(wait_for_rounds(dir_.file("edge.jsonl"), 2)) << co->output();
  w1->kill_now();
  w2->kill_now();
  const int killed_after = read_jsonl_lines(dir_.file("edge.jsonl"));
  auto again = worker("w1", "0", run);  // the same key: the same worker
  expect_exit(*co, 0, "coordinator");
  for (auto* w : {again.get(), w3.get(), w4.get()}) expect_exit(*w, 0, "worker");
  const auto rounds = read_jsonl(dir_.file("edge.jsonl"));
  ASSERT_EQ(rounds.size(), 31u) << "30 rounds and the summary";
  int64_t missing = 0;
  for (size_t i = 0; i + 1 < rounds.size(); ++i) {
    const auto& r = rounds[i];
    EXPECT_EQ(r["clients"].get<int64_t>() + r["missing"].get<int64_t>(), r["sampled"].get<int64_t>())
        << "every sampled client trained or is counted missing, round " << r["round"];
    missing += r["missing"].get<int64_t>();
  }
  EXPECT_EQ(rounds[0]["clients"], 3) << "round 1 ran without the late worker";
  // Round 1 lacks the late worker; from the round after the one under way at the kill, the
  // worker killed for good misses every round, and the restarted one at least one.
  EXPECT_GE(missing, 1 + (29 - killed_after) + 1) << "killed after round " << killed_after;
  EXPECT_EQ(rounds[29]["clients"], 3) << "the late and the restarted worker train; the killed one stays gone";
  EXPECT_NE(co->output().find("joined again"), std::string::npos) << co->output();
}

// A device that stalls (SIGSTOP) past the liveness is lost; when it wakes (SIGCONT) it says
// hello again, is admitted, gets the full model and trains; an answer it may have been
// holding is for a round long closed and is dropped (the coordinator's version check).
TEST_F(EdgeRun, AStalledWorkerIsLostAndComesBackOnItsOwn) {
  authorize(2);
  const std::string run = kSlowRun + "--clients 2 --rounds 12 ";  // no process starts: it is back at once
  auto co = coordinator(run + "--metrics " + dir_.file("edge.jsonl"));
  auto w1 = worker("w1", "0", run);
  auto w2 = worker("w2", "1", run);
  ASSERT_TRUE(wait_for_rounds(dir_.file("edge.jsonl"), 2)) << co->output();
  w2->signal(SIGSTOP);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (co->output().find("is gone (silent for") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  w2->signal(SIGCONT);
  expect_exit(*co, 0, "coordinator");
  for (auto* w : {w1.get(), w2.get()}) expect_exit(*w, 0, "worker");
  const auto rounds = read_jsonl(dir_.file("edge.jsonl"));
  ASSERT_EQ(rounds.size(), 13u);
  bool without = false;
  for (size_t i = 0; i + 1 < rounds.size(); ++i) {
    EXPECT_EQ(rounds[i]["clients"].get<int64_t>() + rounds[i]["missing"].get<int64_t>(), rounds[i]["sampled"].get<int64_t>());
    without = without || rounds[i]["clients"] == 1;
  }
  EXPECT_TRUE(without) << "the stalled worker missed rounds";
  EXPECT_EQ(rounds[11]["clients"], 2) << "and trains again";
  EXPECT_NE(co->output().find("joined again"), std::string::npos) << co->output();
}

TEST_F(EdgeRun, ACoordinatorKilledAndResumedEndsOnTheUninterruptedModel) {
  const std::string run = kSlowRun + "--clients 4 --rounds 8 --prune di:every=3,warmup=2 ";
  const auto sim = xfed("simulate " + run + "--quiet --metrics " + dir_.file("sim.jsonl"), 180);
  ASSERT_EQ(sim.code, 0) << sim.out;
  authorize(2);
  const std::string checkpoints = "--checkpoint-dir " + dir_.file("ck") + " ";
  const std::string workers = checkpoints + "--reconnect-timeout 120 ";
  auto first = coordinator(run + checkpoints + "--metrics " + dir_.file("edge.jsonl"));
  auto w1 = worker("w1", "0,2", run + workers);
  auto w2 = worker("w2", "1,3", run + workers);
  ASSERT_TRUE(wait_for_rounds(dir_.file("edge.jsonl"), 4)) << first->output();
  first->kill_now();
  auto second = coordinator(run + checkpoints + "--resume --verbose --metrics " + dir_.file("edge.jsonl"), "resumed.log");
  expect_exit(*second, 0, "resumed coordinator");
  for (auto* w : {w1.get(), w2.get()}) expect_exit(*w, 0, "worker");
  EXPECT_EQ(checksum_of(dir_.file("edge.jsonl")), checksum_of(dir_.file("sim.jsonl")))
      << second->output() << w1->output();
  EXPECT_NE(second->output().find("resumed from round"), std::string::npos) << second->output();
}

TEST_F(EdgeRun, StrangersWrongSettingsAndGarbageAreTurnedAwayAndTheRunGoesOn) {
  const std::string run = "--dataset synthetic --synthetic-train 1200 --synthetic-test 200 --clients 2 --rounds 3 ";
  const auto sim = xfed("simulate " + run + "--quiet --metrics " + dir_.file("sim.jsonl"), 180);
  ASSERT_EQ(sim.code, 0) << sim.out;
  authorize(1);
  auto co = coordinator(run + "--metrics " + dir_.file("edge.jsonl"));
  const auto one_line_exit = [&](const std::string& command, int code, const std::string& needle) {
    const auto r = run_command(command + " --quiet", 60);
    EXPECT_EQ(r.code, code) << command << "\n" << r.out;
    EXPECT_NE(r.out.find(needle), std::string::npos) << command << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
  };
  one_line_exit(worker_command("stranger", "0,1", run), 2, "does not accept this worker's key");
  one_line_exit(worker_command("w1", "0,1", run + "--lr 0.1"), 2,
                "worker 1 runs another configuration than the coordinator: --lr is '0.1' on worker 1 and "
                "'0.05' on the coordinator");
  {  // a peer that speaks no ZMTP at all
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in a = loopback(port_);
    ASSERT_EQ(connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    std::string junk(65536, '\xff');
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 131 + 7);
    EXPECT_GT(write(s, junk.data(), junk.size()), 0);
    close(s);
  }
  auto w1 = worker("w1", "0,1", run);
  expect_exit(*co, 0, "coordinator");
  expect_exit(*w1, 0, "worker");
  EXPECT_EQ(checksum_of(dir_.file("edge.jsonl")), checksum_of(dir_.file("sim.jsonl")))
      << "the coordinator's state is untouched by what it turned away";
}

// IDX files of a small MNIST-format dataset: n_train and 50 test images of side x side
// pixels whose brightness pattern depends on the class (learnable), varied by `seed`.
void write_mnist_format(const std::string& dir, uint32_t n_train, uint32_t seed, uint32_t side = 6) {
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, std::vector<uint32_t> dims, uint32_t n, bool labels) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    const uint8_t head[4] = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
    out.write(reinterpret_cast<const char*>(head), 4);
    for (auto d : dims)
      for (int s = 24; s >= 0; s -= 8) out.put(static_cast<char>(d >> s));
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t label = (i * 7 + seed) % 10;
      if (labels) out.put(static_cast<char>(label));
      else
        for (uint32_t p = 0; p < side * side; ++p) out.put(static_cast<char>(p % 10 == label ? 200 + (i + seed) % 50 : (i * p) % 40));
    }
  };
  write("train-images-idx3-ubyte", {n_train, side, side}, n_train, false);
  write("train-labels-idx1-ubyte", {n_train}, n_train, true);
  write("t10k-images-idx3-ubyte", {50, side, side}, 50, false);
  write("t10k-labels-idx1-ubyte", {50}, 50, true);
}

TEST_F(EdgeRun, DevicesTrainOnTheirOwnDataAndAnotherShapeIsRefused) {
  write_mnist_format(dir_.file("server"), 100, 0);
  write_mnist_format(dir_.file("phone1"), 150, 1);
  write_mnist_format(dir_.file("phone2"), 260, 2);
  for (const char* phone : {"phone1", "phone2"})  // a device needs its training files only
    for (const auto& f : std::filesystem::directory_iterator(dir_.file(phone)))
      if (f.path().filename().string().rfind("t10k", 0) == 0) std::filesystem::remove(f.path());
  authorize(2);
  const std::string run = "--dataset mnist --clients 2 --rounds 3 --batch 16 ";
  write_mnist_format(dir_.file("camera"), 80, 3, 5);
  auto co = coordinator(run + "--data-dir " + dir_.file("server") + " --metrics " + dir_.file("edge.jsonl"));
  const auto other = run_command(worker_command("w1", "", run + "--quiet --data-dir " + dir_.file("camera")), 120);
  EXPECT_EQ(other.code, 2) << other.out;
  EXPECT_NE(other.out.find("data shape is '1x5x5, 10 classes' on worker"), std::string::npos) << other.out;
  auto w1 = worker("w1", "", run + "--data-dir " + dir_.file("phone1"));
  auto w2 = worker("w2", "", run + "--data-dir " + dir_.file("phone2"));
  expect_exit(*co, 0, "coordinator");
  for (auto* w : {w1.get(), w2.get()}) expect_exit(*w, 0, "worker");
  const auto rounds = read_jsonl(dir_.file("edge.jsonl"));
  ASSERT_EQ(rounds.size(), 4u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(rounds[i]["clients"], 2) << "both devices train, round " << i + 1;
  EXPECT_NE(w1->output().find("its own data as client"), std::string::npos) << w1->output();
}

TEST_F(EdgeRun, ABusyPortAndAnUnreachableCoordinatorAreOneLineEach) {
  authorize(1);
  const int busy = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in a = loopback(port_);
  ASSERT_EQ(bind(busy, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(busy, 1), 0);
  auto co = coordinator("--dataset synthetic --quiet");
  expect_exit(*co, 2, "coordinator on a busy port");
  const std::string refused = co->output();
  EXPECT_NE(refused.find("Address already in use"), std::string::npos) << refused;
  EXPECT_EQ(std::count(refused.begin(), refused.end(), '\n'), 1) << refused;
  close(busy);
  const auto r = run_command(worker_command("w1", "0", "--dataset synthetic --quiet --connect-timeout 1"), 60);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no welcome from the coordinator at " + endpoint_ + " within 1000 ms"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

}  // namespace
}  // namespace xfed::testing
