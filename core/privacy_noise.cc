#include "core/privacy_noise.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/check.h"
#include "core/rng.h"

namespace xfed {

double l2_norm(const at::Tensor& v) {
  XFED_CHECK(v.is_contiguous() && v.scalar_type() == at::kFloat, "l2_norm: a contiguous float32 vector");
  const float* p = v.data_ptr<float>();
  double sum = 0;
  for (int64_t j = 0; j < v.numel(); ++j) sum += static_cast<double>(p[j]) * p[j];
  return std::sqrt(sum);
}

std::vector<double> secret_gaussian(int64_t n, double std, const SecretKey& key) {
  const size_t pairs = static_cast<size_t>((n + 1) / 2);
  const auto u = secret_uniforms(2 * pairs, key);
  std::vector<double> out(2 * pairs);
  for (size_t i = 0; i < pairs; ++i) {
    const double radius = std * std::sqrt(-2.0 * std::log(1.0 - u[2 * i]));  // 1 - u in (0, 1]
    out[2 * i] = radius * std::cos(2 * M_PI * u[2 * i + 1]);
    out[2 * i + 1] = radius * std::sin(2 * M_PI * u[2 * i + 1]);
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

SecretKey secret_of_seed(uint64_t seed) { return derive_secret(SecretKey{}, kStreamDpSeed, seed); }

at::Tensor privatize_update(const at::Tensor& delta, const LocalPrivacy& privacy, uint64_t round, int64_t client) {
  const at::Tensor flat = delta.contiguous();
  const double norm = l2_norm(flat);
  const double scale = norm > privacy.clip ? privacy.clip / norm : 1.0;
  const auto noise = secret_gaussian(flat.numel(), privacy.noise * privacy.clip,
                                     derive_secret(privacy.secret, kStreamDpLocalNoise, round, static_cast<uint64_t>(client)));
  auto out = at::empty_like(flat);
  const float* in = flat.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t j = 0; j < flat.numel(); ++j)
    o[j] = static_cast<float>(scale * in[j] + noise[static_cast<size_t>(j)]);
  return out;
}

}  // namespace xfed
