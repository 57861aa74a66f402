// Numbers from a secret key's ChaCha20 keystream (core/crypto.h): the random bits that
// privacy rests on (--dp's sampling and noise, secure aggregation's rounding), never a seeded
// PRNG that whoever knows the run seed could replay. Torch-free.
#pragma once

#include <cstddef>
#include <vector>

#include "core/crypto.h"

namespace xfed {

// `n` uniform draws in [0, 1) (53 bits each, from little-endian 64-bit words) from the
// keystream of `key`.
std::vector<double> secret_uniforms(size_t n, const SecretKey& key);

}  // namespace xfed
