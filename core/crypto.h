// Cryptographic primitives, all from libsodium: every libsodium call of xfed lives in
// core/crypto.cc, behind one checking helper (sodium_ready: the library initialised once,
// or an error). Never a home-made cipher or hash.
//   SHA-256 names a TorchScript archive (the code a worker runs): the run identity records
//   it, and a worker may pin it (--model-sha256).
//   Secret randomness for differential privacy (--dp): a 32-byte key from the OS's random
//   source, keys derived from it with keyed BLAKE2b, and ChaCha20 keystreams as the random
//   bits of the noise and of the client sampling (coordinator/dp.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace xfed {

using Sha256 = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 32>;

Sha256 sha256(const void* data, size_t size);
inline Sha256 sha256(const std::string& bytes) { return sha256(bytes.data(), bytes.size()); }
// 64 lower-case hex digits.
std::string hex_of(const Sha256& digest);
// 64 hex digits (either case) -> the digest; nullopt for anything else.
std::optional<Sha256> sha256_of_hex(const std::string& hex);

// BLAKE2b (crypto_generichash): `out_size` in [16, 64] bytes of `data`, keyed when key_size
// > 0 (key_size in [16, 64]).
void blake2b(uint8_t* out, size_t out_size, const void* data, size_t size, const uint8_t* key = nullptr,
             size_t key_size = 0);
// 32 bytes from the OS's random source (randombytes_buf).
SecretKey random_secret();
// A key for one purpose: keyed BLAKE2b-256 of (a, b, c) as little-endian 64-bit words.
SecretKey derive_secret(const SecretKey& key, uint64_t a, uint64_t b = 0, uint64_t c = 0);
// The ChaCha20 (IETF) keystream of `key` with an all-zero nonce from block 0: `size` bytes.
// Each key must serve one stream only (derive_secret gives one per purpose).
void chacha20_keystream(const SecretKey& key, uint8_t* out, size_t size);

}  // namespace xfed
