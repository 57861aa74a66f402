#include "compression/pipeline.h"

#include <cmath>
#include <cstring>

namespace xfed::compression {

Result<Pipeline> Pipeline::parse(const std::string& spec, const std::string& flag) {
  if (spec == "none" || spec.empty()) return Pipeline();
  return Status::error(flag + " '" + spec + "': unknown pipeline (expected none)");
}

void Pipeline::encode(const float* x, size_t n, uint64_t /*seed*/, Bytes* out,
                      float* reconstructed) const {
  ByteWriter w(out);
  w.put_bytes(x, n * sizeof(float));  // host is little-endian (checked in CMake)
  if (reconstructed) std::memcpy(reconstructed, x, n * sizeof(float));
}

Status Pipeline::decode(ByteReader& r, size_t n, float* out) const {
  if (!r.get_bytes(out, n * sizeof(float)))
    return Status::error("truncated tensor data (" + std::to_string(n) + " floats expected)");
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(out[i])) return Status::error("non-finite value in tensor data");
  return Status::ok();
}

}  // namespace xfed::compression
