// Minimal thread-safe logging to stderr ("xfed: warning: ..."). Each call writes one whole
// line with a single fputs, so lines from concurrent threads never interleave mid-line.
#pragma once

#include <string>

namespace xfed {

void log_info(const std::string& message);
void log_warning(const std::string& message);
void log_error(const std::string& message);
// Info lines are dropped unless enabled (the CLI's --verbose; tests keep them off).
void set_log_verbose(bool verbose);

}  // namespace xfed
