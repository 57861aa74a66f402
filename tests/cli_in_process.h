// xfed's command line run inside the test process (app::run_command_line, the function the
// binary's main calls): the same parsing, checks and messages as the binary, without the
// ~0.7 s each process spends loading LibTorch before main. For the long tables of `simulate`
// usage errors, which start nothing; whole runs, other commands (mpi, edge) and the exit code
// of the real binary are checked through the binary (tests/cli_run.h), so a row here differs
// from the binary only in what a process owns (its exit, its stdio buffers).
#pragma once

#include <gtest/gtest.h>
#include <wordexp.h>

#include <cstdio>
#include <string>

#include "app/command_line.h"
#include "core/log.h"
#include "tests/cli_run.h"

namespace xfed::testing {

// `args` split as a shell would split them (quotes; no substitution), then run; stdout and
// stderr captured (their order between the two is not kept).
inline Run xfed_in_process(const std::string& args) {
  wordexp_t words;
  if (wordexp(("xfed " + args).c_str(), &words, WRDE_NOCMD) != 0) {
    ADD_FAILURE() << "cannot split: " << args;
    return {-1, ""};
  }
  set_log_verbose(false);  // as a fresh process starts
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = app::run_command_line(static_cast<int>(words.we_wordc), words.we_wordv);
  std::fflush(stdout);
  std::fflush(stderr);
  std::string out = ::testing::internal::GetCapturedStdout();
  out += ::testing::internal::GetCapturedStderr();
  wordfree(&words);
  return {code, out};
}

inline void expect_usage_error_in_process(const std::string& args, const std::string& needle) {
  expect_usage_error_of(xfed_in_process(args), args, needle);
}

}  // namespace xfed::testing
