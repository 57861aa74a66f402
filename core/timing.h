// Wall-clock helper for the per-phase seconds in metrics.
#pragma once

#include <chrono>

namespace xfed {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace xfed
