// Running the real `xfed` binary from tests: exit code and output (stdout + stderr), every
// run bounded by `timeout` so that a hang fails the test instead of the suite.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace xfed::testing {

struct Run {
  int code;         // exit code; 124 when the run had to be stopped
  std::string out;  // stdout + stderr
};

// Any shell command line, bounded the same way.
inline Run run_command(const std::string& command, int timeout_s) {
  const std::string cmd = "timeout --kill-after=5 " + std::to_string(timeout_s) + " " + command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline Run xfed(const std::string& args, int timeout_s = 120) {
  return run_command(std::string(XFED_BINARY) + " " + args, timeout_s);
}

// What a usage error must be: exit 2, one line, holding `needle`.
inline void expect_usage_error_of(const Run& r, const std::string& args, const std::string& needle) {
  EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
  EXPECT_NE(r.out.find(needle), std::string::npos) << args << "\n" << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
}

inline void expect_usage_error(const std::string& args, const std::string& needle) {
  expect_usage_error_of(xfed(args), args, needle);
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Lines in a JSONL file so far (0 if it does not exist yet); reads a file being written.
inline int read_jsonl_lines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

// A small run that goes through every protocol step: sparsified 4-bit uplink with error
// feedback, lossy downlink deltas, two DI pruning steps, half the clients per round (the
// MPI and edge tests run it on their transports and compare with simulate).
inline const std::string kEveryStepRun =
    "--dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 8 --rounds 6 "
    "--compress topk:0.01,qsgd:4,zstd --downlink qsgd:8 --prune di:every=2,warmup=2 --fraction 0.5 ";

// The model_checksum of a metrics file's summary, or a text saying there is none.
inline std::string checksum_of(const std::string& metrics) {
  const auto lines = read_jsonl(metrics);
  if (lines.empty() || !lines.back().contains("model_checksum")) return "(no summary in " + metrics + ")";
  return lines.back()["model_checksum"].get<std::string>();
}

}  // namespace xfed::testing
