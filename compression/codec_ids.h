// Codec identifiers of xfed's own compression stages: each stage's registration declares
// its id (builtin_stages.cc), frame headers (protocol/frame.h) carry them, and zstd is the
// pipeline's own. Wire format: never change these values, only add. A program's own
// stages take ids from 128 up (below 128 is kept for xfed's future stages).
#pragma once

#include <cstdint>

namespace xfed::compression {

enum class CodecId : uint8_t {
  kNone = 0,
  kFp16 = 1,
  kBf16 = 2,
  kTopK = 3,
  kRandK = 4,
  kThreshold = 5,
  kQsgd = 6,
  kUniform = 7,
  kSign = 8,
  kZstd = 9,
  kDgcTopK = 10,
  kNonzero = 11,  // every entry that is not zero (the downlink's sparse aggregate)
};

constexpr uint8_t kFirstUserCodecId = 128;

}  // namespace xfed::compression
