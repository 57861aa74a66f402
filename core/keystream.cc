#include "core/keystream.h"

#include <cstdint>

namespace xfed {

std::vector<double> secret_uniforms(size_t n, const SecretKey& key) {
  std::vector<uint8_t> bytes(8 * n);
  chacha20_keystream(key, bytes.data(), bytes.size());
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t w = 0;
    for (int b = 7; b >= 0; --b) w = (w << 8) | bytes[8 * i + static_cast<size_t>(b)];  // little-endian
    out[i] = static_cast<double>(w >> 11) * 0x1.0p-53;
  }
  return out;
}

}  // namespace xfed
