// The noise of differential privacy (--dp), shared by the coordinator (central model:
// coordinator/dp.h) and the clients (local model): clipping to an L2 norm and Gaussian noise
// whose random bits are a ChaCha20 keystream under a secret key (core/crypto.h), never a
// seeded PRNG that someone who knows the run seed could replay.
//
// Arithmetic in float64 and in index order: the same bits on every transport and thread count.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/crypto.h"
#include "core/keystream.h"  // secret_uniforms

namespace xfed {

// L2 norm of a contiguous float32 vector, summed in float64 in index order.
double l2_norm(const at::Tensor& v);
// `n` draws of N(0, std^2) from the keystream of `key` (Box-Muller on 53-bit uniforms).
std::vector<double> secret_gaussian(int64_t n, double std, const SecretKey& key);
// The secret that `--dp seed=S` stands for (repeatable experiments; no secret at all to
// whoever knows S).
SecretKey secret_of_seed(uint64_t seed);

// Local DP: what a client sends instead of its update.
struct LocalPrivacy {
  double clip = 0;   // C
  double noise = 0;  // Z: the noise std is Z * C
  SecretKey secret;  // this process's (or secret_of_seed(S))
};
// `delta` scaled to norm <= C, plus N(0, (Z C)^2) per coordinate from the key of
// (secret, round, client); float32 like `delta`.
at::Tensor privatize_update(const at::Tensor& delta, const LocalPrivacy& privacy, uint64_t round, int64_t client);

}  // namespace xfed
