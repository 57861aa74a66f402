// Key agreement and authenticated encryption for secure aggregation (#19): X25519 key pairs,
// the key two clients agree on, and ChaCha20-Poly1305 to seal what one sends the other
// through the coordinator (the Shamir shares of SecAgg+). Implemented with the other
// libsodium calls in core/crypto.cc, behind its one checking helper. Never a home-made cipher.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/crypto.h"

namespace xfed {

using PublicKey = std::array<uint8_t, 32>;
using Nonce = std::array<uint8_t, 12>;

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key{};
};

// `size` bytes from the OS's random source (randombytes_buf).
void random_bytes(uint8_t* out, size_t size);

// A fresh X25519 key pair (crypto_box_keypair: the secret from the OS's random source).
KeyPair x25519_keypair();
// The public key of `secret` (crypto_scalarmult_base).
PublicKey x25519_public_key(const SecretKey& secret);
// The raw X25519 result of `mine` and `theirs` (crypto_scalarmult); nullopt when `theirs` is
// a low-order point (the result would be all zero: no secret at all).
std::optional<SecretKey> x25519(const SecretKey& mine, const PublicKey& theirs);
// The key two parties agree on: BLAKE2b-256 of the X25519 result followed by the two public
// keys in ascending byte order, so both sides derive the same key and it is bound to both
// keys. nullopt for a low-order `theirs`.
std::optional<SecretKey> agreed_key(const KeyPair& mine, const PublicKey& theirs);

// The nonce of message number `counter` (little-endian in the first 8 bytes).
Nonce nonce_of(uint64_t counter);

constexpr size_t kSealOverhead = 16;  // the Poly1305 tag

// ChaCha20-Poly1305 (IETF): `plain` encrypted and authenticated with `associated` (sent in
// the clear, but bound to the ciphertext). A (key, nonce) pair must never seal twice.
std::vector<uint8_t> seal(const SecretKey& key, const Nonce& nonce, const uint8_t* plain, size_t size,
                          const uint8_t* associated = nullptr, size_t associated_size = 0);
// The plaintext, or nullopt when the ciphertext, the nonce, the key or the associated data
// is not the sealed one (the tag does not verify).
std::optional<std::vector<uint8_t>> open_sealed(const SecretKey& key, const Nonce& nonce, const uint8_t* sealed,
                                                size_t size, const uint8_t* associated = nullptr,
                                                size_t associated_size = 0);

}  // namespace xfed
