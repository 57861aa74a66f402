#include "secagg/fixed_point.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/parse.h"
#include "core/keystream.h"

namespace xfed::secagg {

Status FixedPoint::check() const {
  if (!(std::isfinite(range) && range > 0)) return Status::usage("secure aggregation: the clip range " + short_number(range) + " is not a positive number");
  if (bits < 1 || bits > 31) return Status::usage("secure aggregation: " + std::to_string(bits) + " bits per value (1 to 31)");
  if (ring_bits < bits || ring_bits > 32)
    return Status::usage("secure aggregation: a ring of " + std::to_string(ring_bits) + " bits for values of " +
                         std::to_string(bits) + " (" + std::to_string(bits) + " to 32)");
  return Status::ok();
}

double FixedPoint::step() const { return 2 * range / static_cast<double>((uint64_t{1} << bits) - 1); }

uint64_t FixedPoint::max_summands() const { return ring_mask() / ((uint64_t{1} << bits) - 1); }

uint32_t FixedPoint::ring_mask() const { return static_cast<uint32_t>((uint64_t{1} << ring_bits) - 1); }

namespace {

template <class Value>
std::vector<uint32_t> encode_values(const std::vector<Value>& values, const FixedPoint& fp, const SecretKey& key) {
  XFED_CHECK(fp.check(), "encode: a bad FixedPoint");
  const auto u = secret_uniforms(values.size(), key);
  const double top = static_cast<double>((uint64_t{1} << fp.bits) - 1);
  std::vector<uint32_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = std::isnan(values[i]) ? 0.0 : std::clamp(static_cast<double>(values[i]), -fp.range, fp.range);
    const double scaled = (v + fp.range) / (2 * fp.range) * top;  // in [0, top]
    const double floor = std::floor(scaled);
    const double up = u[i] < scaled - floor ? 1.0 : 0.0;
    out[i] = static_cast<uint32_t>(std::min(top, floor + up));
  }
  return out;
}

}  // namespace

std::vector<uint32_t> encode(const std::vector<float>& values, const FixedPoint& fp, const SecretKey& key) {
  return encode_values(values, fp, key);
}

std::vector<uint32_t> encode_f64(const std::vector<double>& values, const FixedPoint& fp, const SecretKey& key) {
  return encode_values(values, fp, key);
}

std::vector<double> decode_sum(const std::vector<uint32_t>& sum, const FixedPoint& fp, uint64_t summands) {
  XFED_CHECK(fp.check() && summands <= fp.max_summands(), "decode_sum: more summands than the bits allow");
  std::vector<double> out(sum.size());
  for (size_t i = 0; i < sum.size(); ++i)
    out[i] = static_cast<double>(sum[i]) * fp.step() - static_cast<double>(summands) * fp.range;
  return out;
}

}  // namespace xfed::secagg
