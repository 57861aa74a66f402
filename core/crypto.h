// Cryptographic primitives, all from libsodium: every libsodium call of xfed lives in
// core/crypto.cc, behind one checking helper (sodium_ready: the library initialised once,
// or an error). Never a home-made cipher or hash.
//   SHA-256 names a TorchScript archive (the code a worker runs): the run identity records
//   it, and a worker may pin it (--model-sha256).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace xfed {

using Sha256 = std::array<uint8_t, 32>;

Sha256 sha256(const void* data, size_t size);
inline Sha256 sha256(const std::string& bytes) { return sha256(bytes.data(), bytes.size()); }
// 64 lower-case hex digits.
std::string hex_of(const Sha256& digest);
// 64 hex digits (either case) -> the digest; nullopt for anything else.
std::optional<Sha256> sha256_of_hex(const std::string& hex);

}  // namespace xfed
