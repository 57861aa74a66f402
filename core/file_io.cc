#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace xfed {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status describe_not_regular(const std::string& path, const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return Status::io(path + ": is a directory, expected a file");
  return Status::io(path + ": not a regular file");
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string parent_of(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace

Status check_regular_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::io(path + ": cannot open (" + errno_text() + ")");
  if (!S_ISREG(st.st_mode)) return describe_not_regular(path, st);
  return Status::ok();
}

Result<Bytes> read_file_bytes(const std::string& path, uint64_t max_bytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};  // a FIFO must not block us
  if (f.fd < 0) return Status::io(path + ": cannot open (" + errno_text() + ")");
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return Status::io(path + ": cannot stat (" + errno_text() + ")");
  if (!S_ISREG(st.st_mode)) return describe_not_regular(path, st);
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes)
    return Status::io(path + ": " + std::to_string(size) + " bytes, more than the " +
                         std::to_string(max_bytes) + " this file may have");
  Bytes bytes(static_cast<size_t>(size));
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(f.fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::io(path + ": read error (" + errno_text() + ")");
    if (r == 0) return Status::io(path + ": file shrank while being read");
    got += static_cast<size_t>(r);
  }
  return bytes;
}

Result<std::string> read_text_file(const std::string& path, uint64_t max_bytes) {
  auto bytes = read_file_bytes(path, max_bytes);
  if (!bytes) return bytes.status();
  return std::string(bytes.value().begin(), bytes.value().end());
}

Status write_file_atomically(const std::string& path, const Bytes& bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return describe_not_regular(path, st).prefixed("refusing to replace");
  const std::string tmp = path + ".tmp";
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (f.fd < 0) return Status::io(path + ": cannot open for writing (" + errno_text() + ")");
    if (!write_all(f.fd, bytes.data(), bytes.size()) || ::fsync(f.fd) != 0) {
      const auto why = errno_text();
      ::unlink(tmp.c_str());
      return Status::io(path + ": write failed (" + why + ")");
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto why = errno_text();
    ::unlink(tmp.c_str());
    return Status::io(path + ": cannot rename the temporary file (" + why + ")");
  }
  return Status::ok();
}

Status check_output_file(const std::string& path, const std::string& flag) {
  const std::string where = flag + " " + path;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return describe_not_regular(where, st);
    if (::access(path.c_str(), W_OK) != 0) return Status::io(where + ": not writable");
    return Status::ok();
  }
  const auto dir = parent_of(path);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::io(where + ": folder " + dir + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return Status::io(where + ": folder " + dir + " is not writable");
  return Status::ok();
}

Status check_output_dir(const std::string& path, const std::string& flag) {
  const std::string where = flag + " " + path;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::io(where + ": not a folder and cannot be made one" +
                         (ec ? " (" + ec.message() + ")" : ""));
  if (::access(path.c_str(), W_OK | X_OK) != 0) return Status::io(where + ": not writable");
  return Status::ok();
}

}  // namespace xfed
