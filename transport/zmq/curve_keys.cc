#include "transport/zmq/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cstring>
#include <set>
#include <sstream>

#include "core/file_io.h"
#include "transport/zmq/zmq_check.h"

namespace xfed::transport {
namespace {

constexpr uint64_t kMaxKeyFileBytes = 1 << 20;
constexpr const char* kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

// (line number, first word) of every line that is not blank or a '#' comment; a word that is
// a key may be followed by a comment ("KEY laptop of ana").
struct KeyLine {
  int line;
  std::string word;
};

std::vector<KeyLine> key_lines(const std::string& text) {
  std::vector<KeyLine> out;
  std::istringstream in(text);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;                      // blank
    if (first[0] == '#' && !is_z85_key(first)) continue;  // a comment ('#' is Z85 too)
    out.push_back({number, first});
  }
  return out;
}

Status not_a_key(const std::string& path, const KeyLine& k) {
  return Status::usage(path + ":" + std::to_string(k.line) + ": not a CURVE key (40 Z85 characters, as " +
                       "`xfed keygen` writes)");
}

Status write_secret_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno == EEXIST ? Status::usage(path + ": exists; keygen never replaces a key (remove it or choose "
                                                  "another --out)")
                           : Status::io(path + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    return Status::io(path + ": " + std::strerror(saved));
  }
  return Status::ok();
}

}  // namespace

bool is_z85_key(const std::string& text) {
  if (text.size() != kZ85KeyChars || text.find_first_not_of(kZ85Alphabet) != std::string::npos) return false;
  uint8_t key[32];
  return zmq_z85_decode(key, text.c_str()) != nullptr;
}

Result<CurveKeyPair> generate_curve_key_pair() {
  char pub[kZ85KeyChars + 1], secret[kZ85KeyChars + 1];
  if (auto st = zmq_check(zmq_curve_keypair(pub, secret), "zmq_curve_keypair (is libzmq built with CURVE?)"); !st)
    return st;
  return CurveKeyPair{pub, secret};
}

Status write_key_pair(const std::string& name, const CurveKeyPair& keys) {
  if (auto st = write_secret_file(name + ".key", keys.secret_key + "\n" + keys.public_key + "\n"); !st) return st;
  const std::string pub = keys.public_key + "\n";
  return write_file_atomically(name + ".pub", Bytes(pub.begin(), pub.end()));
}

Result<CurveKeyPair> read_secret_key_file(const std::string& path) {
  if (auto st = check_regular_file(path); !st) return st;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Status::io(path + ": " + std::strerror(errno));
  if (info.st_mode & (S_IRWXG | S_IRWXO))
    return Status::usage(path + ": a secret key that others can read (chmod 600 " + path + ")");
  auto text = read_text_file(path, kMaxKeyFileBytes);
  if (!text) return text.status();
  const auto lines = key_lines(text.value());
  if (lines.empty()) return Status::usage(path + ": no key in the file");
  for (const auto& k : lines)
    if (!is_z85_key(k.word)) return not_a_key(path, k);
  if (lines.size() > 2) return Status::usage(path + ":" + std::to_string(lines[2].line) + ": more than a key pair");
  CurveKeyPair keys{std::string(kZ85KeyChars, ' '), lines[0].word};
  if (auto st = zmq_check(zmq_curve_public(keys.public_key.data(), keys.secret_key.c_str()), "zmq_curve_public"); !st)
    return st.prefixed(path);
  if (lines.size() == 2 && lines[1].word != keys.public_key)
    return Status::usage(path + ":" + std::to_string(lines[1].line) + ": this public key does not belong to the "
                         "secret key above it");
  return keys;
}

Result<std::string> read_public_key_file(const std::string& path) {
  auto text = read_text_file(path, kMaxKeyFileBytes);
  if (!text) return text.status();
  const auto lines = key_lines(text.value());
  if (lines.empty()) return Status::usage(path + ": no key in the file");
  if (lines.size() > 1) return Status::usage(path + ":" + std::to_string(lines[1].line) + ": a second key (a public key file holds one)");
  if (!is_z85_key(lines[0].word)) return not_a_key(path, lines[0]);
  return lines[0].word;
}

Result<std::vector<std::string>> read_authorized_keys(const std::string& path) {
  auto text = read_text_file(path, kMaxKeyFileBytes);
  if (!text) return text.status();
  return parse_authorized_keys(text.value(), path);
}

Result<std::vector<std::string>> parse_authorized_keys(const std::string& text, const std::string& origin) {
  std::set<std::string> keys;
  for (const auto& k : key_lines(text)) {
    if (!is_z85_key(k.word)) return not_a_key(origin, k);
    keys.insert(k.word);
  }
  if (keys.empty()) return Status::usage(origin + ": no keys: the coordinator would admit no worker");
  return std::vector<std::string>(keys.begin(), keys.end());
}

}  // namespace xfed::transport
