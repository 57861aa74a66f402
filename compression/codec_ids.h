// Codec identifiers, one per compression stage: the stages own them, frame headers
// (protocol/frame.h) carry them. Wire format: never change these values, only add.
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

constexpr uint8_t kMaxCodecId = 11;

}  // namespace xfed::compression
