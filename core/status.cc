#include "core/status.h"

namespace xfed {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kFailed: return "failed";
    case StatusCode::kUsage: return "usage";
    case StatusCode::kIo: return "I/O";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kStale: return "stale";
    case StatusCode::kTimeout: return "timeout";
    case StatusCode::kPeerLost: return "peer lost";
    case StatusCode::kDiverged: return "diverged";
    case StatusCode::kForbidden: return "forbidden";
    case StatusCode::kInterrupted: return "interrupted";
    case StatusCode::kTooFew: return "too few";
  }
  return "unknown";
}

}  // namespace xfed
