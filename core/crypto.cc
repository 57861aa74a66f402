#include "core/crypto.h"

#include <sodium.h>

#include "core/check.h"

namespace xfed {
namespace {

// The one checking helper: libsodium initialised (thread-safe, idempotent), or a failed check.
void sodium_ready() {
  static const int status = sodium_init();  // 0 the first time, 1 once done; -1 on failure
  XFED_CHECK_GE(status, 0, "libsodium could not initialise (sodium_init)");
}

}  // namespace

Sha256 sha256(const void* data, size_t size) {
  sodium_ready();
  Sha256 out;
  XFED_CHECK_EQ(crypto_hash_sha256(out.data(), static_cast<const unsigned char*>(data), size), 0,
                "crypto_hash_sha256");
  return out;
}

std::string hex_of(const Sha256& digest) {
  sodium_ready();
  char text[2 * sizeof(Sha256) + 1];
  sodium_bin2hex(text, sizeof text, digest.data(), digest.size());
  return text;
}

std::optional<Sha256> sha256_of_hex(const std::string& hex) {
  sodium_ready();
  if (hex.size() != 2 * sizeof(Sha256)) return std::nullopt;
  Sha256 out;
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &length, &end) != 0 ||
      length != out.size() || end != hex.data() + hex.size())
    return std::nullopt;
  return out;
}

}  // namespace xfed
