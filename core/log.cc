#include "core/log.h"

#include <atomic>
#include <cstdio>

namespace xfed {
namespace {

std::atomic<bool> g_verbose{false};

void emit(const char* level, const std::string& message) {
  const std::string line = std::string("xfed: ") + level + message + "\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace

void log_info(const std::string& message) {
  if (g_verbose.load()) emit("", message);
}
void log_warning(const std::string& message) { emit("warning: ", message); }
void log_error(const std::string& message) { emit("error: ", message); }
void set_log_verbose(bool verbose) { g_verbose.store(verbose); }

}  // namespace xfed
