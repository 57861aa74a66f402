// Pipeline: the compression applied to every tensor of a model state or update, described
// by a string ("none", later "topk:0.01,qsgd:8,zstd:3"). encode() appends one tensor's
// encoding; decode() reads exactly one back. Stochastic stages draw from `seed` only, so
// encoding is deterministic. Immutable after parse(); safe to share across threads.
#pragma once

#include <string>
#include <vector>

#include "compression/codec_ids.h"
#include "core/coding.h"
#include "core/status.h"

namespace xfed::compression {

class Pipeline {
 public:
  Pipeline() = default;  // "none"
  // Parses a pipeline string; errors name the flag (`flag`) and what is allowed.
  static Result<Pipeline> parse(const std::string& spec, const std::string& flag = "--compress");

  const std::string& spec() const { return spec_; }
  std::vector<CodecId> codec_ids() const { return ids_; }
  bool lossless() const { return true; }

  // Appends the encoding of x[0..n). If `reconstructed` is not null it receives what the
  // receiver will decode (for error feedback).
  void encode(const float* x, size_t n, uint64_t seed, Bytes* out, float* reconstructed) const;
  // Reads the encoding of exactly n values into out[0..n).
  Status decode(ByteReader& r, size_t n, float* out) const;

 private:
  std::string spec_ = "none";
  std::vector<CodecId> ids_ = {CodecId::kNone};
};

}  // namespace xfed::compression
