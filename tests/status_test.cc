// Status kinds: what callers branch on (never the message text).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/check.h"
#include "core/file_io.h"
#include "core/status.h"

namespace xfed {
namespace {

// LibTorch appends a backtrace of many lines to its errors: a user gets the first line, and
// an allocation that failed says so.
TEST(Status, AnExceptionIsOneLine) {
  const std::runtime_error torch_like("[enforce fail at alloc_cpu.cpp:75] DefaultCPUAllocator: can't allocate memory\n"
                                      "frame #0: c10::ThrowEnforceNotMet(...)\nframe #1: ...");
  EXPECT_EQ(one_line(torch_like), "[enforce fail at alloc_cpu.cpp:75] DefaultCPUAllocator: can't allocate memory");
  EXPECT_EQ(one_line(std::bad_alloc()), "out of memory");
  EXPECT_EQ(one_line(std::runtime_error("plain")), "plain");
}

TEST(Status, KindSurvivesContextAndResults) {
  EXPECT_EQ(Status::ok().code(), StatusCode::kOk);
  EXPECT_EQ(Status::error("x").code(), StatusCode::kFailed);
  const auto st = Status::corruption("payload checksum mismatch").prefixed("frame from worker 7");
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_EQ(st.message(), "frame from worker 7: payload checksum mismatch");
  Result<int> r = Status::timeout("timed out");
  EXPECT_EQ(r.code(), StatusCode::kTimeout);
  EXPECT_STREQ(status_code_name(StatusCode::kPeerLost), "peer lost");
}

TEST(Status, FileErrorsAreIo) {
  const auto dir = std::filesystem::temp_directory_path() / ("xfed_status_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_EQ(read_file_bytes((dir / "missing").string()).code(), StatusCode::kIo);
  EXPECT_EQ(read_file_bytes(dir.string()).code(), StatusCode::kIo) << "a directory";
  EXPECT_EQ(write_file_atomically((dir / "no" / "such" / "f").string(), Bytes{1}).code(), StatusCode::kIo);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace xfed
