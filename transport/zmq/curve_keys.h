// CURVE keys of the edge transport: every coordinator and worker has a key pair, and a
// worker's identity is its public key (never its address). `xfed keygen --out NAME` writes
//   NAME.key  the secret key, then the public key: two Z85 lines, mode 0600, never replaced
//   NAME.pub  the public key: one Z85 line (give it to the other side)
// The coordinator admits only the public keys of an authorized-keys file: one key a line,
// blank lines and '#' comments allowed. Readers check everything they read: 40 Z85
// characters per key, a secret file that only its owner can read, a public key that
// belongs to the secret one; every error names the file (and line).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace xfed::transport {

constexpr size_t kZ85KeyChars = 40;  // a 32-byte CURVE key in Z85

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

Result<CurveKeyPair> generate_curve_key_pair();
// Writes NAME.key (0600, created, never replaced) and NAME.pub.
Status write_key_pair(const std::string& name, const CurveKeyPair& keys);
Result<CurveKeyPair> read_secret_key_file(const std::string& path);
Result<std::string> read_public_key_file(const std::string& path);
Result<std::vector<std::string>> read_authorized_keys(const std::string& path);
// The same for the text of such a file; `origin` names it in errors.
Result<std::vector<std::string>> parse_authorized_keys(const std::string& text, const std::string& origin);
// True for 40 characters of the Z85 alphabet that decode to a key.
bool is_z85_key(const std::string& text);

}  // namespace xfed::transport
