#include "core/crypto.h"
#include "core/key_agreement.h"

#include <sodium.h>

#include <algorithm>

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

void blake2b(uint8_t* out, size_t out_size, const void* data, size_t size, const uint8_t* key,
             size_t key_size) {
  sodium_ready();
  XFED_CHECK(out_size >= crypto_generichash_BYTES_MIN && out_size <= crypto_generichash_BYTES_MAX,
             "blake2b: output size outside [16, 64]");
  XFED_CHECK(key_size == 0 || (key_size >= crypto_generichash_KEYBYTES_MIN && key_size <= crypto_generichash_KEYBYTES_MAX),
             "blake2b: key size outside [16, 64]");
  XFED_CHECK_EQ(crypto_generichash(out, out_size, static_cast<const unsigned char*>(data), size, key, key_size), 0,
                "crypto_generichash");
}

SecretKey random_secret() {
  sodium_ready();
  SecretKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

SecretKey derive_secret(const SecretKey& key, uint64_t a, uint64_t b, uint64_t c) {
  uint8_t words[24];
  const uint64_t values[3] = {a, b, c};
  for (int w = 0; w < 3; ++w)
    for (int i = 0; i < 8; ++i) words[8 * w + i] = static_cast<uint8_t>(values[w] >> (8 * i));
  SecretKey out;
  blake2b(out.data(), out.size(), words, sizeof words, key.data(), key.size());
  return out;
}

void chacha20_keystream(const SecretKey& key, uint8_t* out, size_t size) {
  sodium_ready();
  static_assert(crypto_stream_chacha20_ietf_KEYBYTES == sizeof(SecretKey));
  const unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  XFED_CHECK_EQ(crypto_stream_chacha20_ietf(out, size, nonce, key.data()), 0, "crypto_stream_chacha20_ietf");
}

void random_bytes(uint8_t* out, size_t size) {
  sodium_ready();
  randombytes_buf(out, size);
}

KeyPair x25519_keypair() {
  sodium_ready();
  static_assert(crypto_box_PUBLICKEYBYTES == sizeof(PublicKey) && crypto_box_SECRETKEYBYTES == sizeof(SecretKey));
  KeyPair pair;
  XFED_CHECK_EQ(crypto_box_keypair(pair.public_key.data(), pair.secret_key.data()), 0, "crypto_box_keypair");
  return pair;
}

PublicKey x25519_public_key(const SecretKey& secret) {
  sodium_ready();
  PublicKey out;
  XFED_CHECK_EQ(crypto_scalarmult_base(out.data(), secret.data()), 0, "crypto_scalarmult_base");
  return out;
}

std::optional<SecretKey> x25519(const SecretKey& mine, const PublicKey& theirs) {
  sodium_ready();
  static_assert(crypto_scalarmult_BYTES == sizeof(SecretKey));
  SecretKey out;
  if (crypto_scalarmult(out.data(), mine.data(), theirs.data()) != 0) return std::nullopt;
  return out;
}

std::optional<SecretKey> agreed_key(const KeyPair& mine, const PublicKey& theirs) {
  const auto shared = x25519(mine.secret_key, theirs);
  if (!shared) return std::nullopt;
  const bool mine_first = std::lexicographical_compare(mine.public_key.begin(), mine.public_key.end(),
                                                       theirs.begin(), theirs.end());
  uint8_t input[3 * 32];
  std::copy(shared->begin(), shared->end(), input);
  const PublicKey& first = mine_first ? mine.public_key : theirs;
  const PublicKey& second = mine_first ? theirs : mine.public_key;
  std::copy(first.begin(), first.end(), input + 32);
  std::copy(second.begin(), second.end(), input + 64);
  SecretKey out;
  blake2b(out.data(), out.size(), input, sizeof input);
  sodium_memzero(input, sizeof input);
  return out;
}

Nonce nonce_of(uint64_t counter) {
  Nonce n{};
  for (int i = 0; i < 8; ++i) n[i] = static_cast<uint8_t>(counter >> (8 * i));
  return n;
}

std::vector<uint8_t> seal(const SecretKey& key, const Nonce& nonce, const uint8_t* plain, size_t size,
                          const uint8_t* associated, size_t associated_size) {
  sodium_ready();
  static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kSealOverhead &&
                crypto_aead_chacha20poly1305_ietf_NPUBBYTES == sizeof(Nonce));
  std::vector<uint8_t> out(size + kSealOverhead);
  unsigned long long written = 0;
  XFED_CHECK_EQ(crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &written, plain, size, associated,
                                                          associated_size, nullptr, nonce.data(), key.data()),
                0, "crypto_aead_chacha20poly1305_ietf_encrypt");
  out.resize(written);
  return out;
}

std::optional<std::vector<uint8_t>> open_sealed(const SecretKey& key, const Nonce& nonce, const uint8_t* sealed,
                                                size_t size, const uint8_t* associated, size_t associated_size) {
  sodium_ready();
  if (size < kSealOverhead) return std::nullopt;
  std::vector<uint8_t> out(size - kSealOverhead);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, sealed, size, associated,
                                                associated_size, nonce.data(), key.data()) != 0)
    return std::nullopt;
  out.resize(written);
  return out;
}

}  // namespace xfed
