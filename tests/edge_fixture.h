// EdgeRun: `xfed coordinator` and `xfed worker` processes on loopback for a test: fresh CURVE
// keys (coordinator, w1..w4, stranger), a free port, an authorized-keys file, and processes
// started and ended by pid (tests/process.h).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "tests/cli_run.h"
#include "tests/process.h"
#include "tests/test_util.h"
#include "transport/zmq/curve_keys.h"

namespace xfed::testing {

using namespace std::chrono_literals;

inline const std::string& kRun = kEveryStepRun;
// Rounds slow enough (a few tenths of a second) to kill a process between two of them.
inline const std::string kSlowRun =
    "--dataset synthetic --synthetic-train 9600 --synthetic-test 400 --local-epochs 3 --lr 0.02 "
    "--compress topk:0.01,qsgd:4,zstd --downlink qsgd:8 ";
inline const std::string kQuickBeats = "--heartbeat 0.2 --liveness 5 ";

// Waits (bounded) until the metrics file has `lines` lines.
inline bool wait_for_rounds(const std::string& metrics, int lines, std::chrono::seconds timeout = 120s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (read_jsonl_lines(metrics) < lines)
    if (std::chrono::steady_clock::now() > deadline) return false;
    else std::this_thread::sleep_for(20ms);
  return true;
}

class EdgeRun : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"coordinator", "w1", "w2", "w3", "w4", "stranger"})
      ASSERT_TRUE(transport::write_key_pair(dir_.file(name), transport::generate_curve_key_pair().value()));
    port_ = free_port();
    endpoint_ = "tcp://127.0.0.1:" + std::to_string(port_);
  }
  void authorize(int workers) {
    std::ofstream list(dir_.file("workers.txt"));
    list << "# the workers of this test\n";
    for (int w = 1; w <= workers; ++w)
      list << transport::read_public_key_file(dir_.file("w" + std::to_string(w) + ".pub")).value() << "\n";
  }
  std::unique_ptr<Process> coordinator(const std::string& flags, const std::string& log = "coordinator.log") {
    return std::make_unique<Process>(binary_ + " coordinator --bind " + endpoint_ + " --key " +
                                         dir_.file("coordinator.key") + " --authorized-keys " +
                                         dir_.file("workers.txt") + " " + kQuickBeats + flags,
                                     dir_.file(log));
  }
  // `clients` empty: the device's own data (its --data-dir in `flags`).
  std::string worker_command(const std::string& key, const std::string& clients, const std::string& flags) const {
    return binary_ + " worker --connect " + endpoint_ + " --key " + dir_.file(key + ".key") +
           " --server-key " + dir_.file("coordinator.pub") + (clients.empty() ? "" : " --client " + clients) + " " +
           kQuickBeats + flags;
  }
  std::unique_ptr<Process> worker(const std::string& key, const std::string& clients, const std::string& flags) {
    return std::make_unique<Process>(worker_command(key, clients, flags), dir_.file(key + ".log"));
  }
  static void expect_exit(Process& p, int code, const char* who) {
    const auto got = p.wait_for(180s);
    ASSERT_TRUE(got.has_value()) << who << " did not end in time:\n" << p.output();
    EXPECT_EQ(*got, code) << who << ":\n" << p.output();
  }

  std::string binary_ = XFED_BINARY;  // the program the processes run (a test may pick an example)
  TempDir dir_;
  int port_ = 0;
  std::string endpoint_;
};

}  // namespace xfed::testing
