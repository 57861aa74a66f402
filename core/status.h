// Status and Result<T>: expected failures at I/O edges.
//
// A corrupt frame, a missing data file, a timeout or a lost peer is not a bug, so it is a
// value, not an exception: the caller decides whether to drop, retry or stop. A Status has
// a kind (StatusCode, as leveldb's and gloo's errors do) for the program to act on, and a
// message for people: it names the file/peer/flag and, where there is one, the remedy.
// Callers branch on the code, never on the text. Errors are turned into an exception or an
// exit code once, at the top (app/), via value_or_throw().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/check.h"

namespace xfed {

enum class StatusCode : uint8_t {
  kOk = 0,
  kFailed,      // not classified further
  kUsage,       // a flag, config, spec or input the user gave is invalid
  kIo,          // a file could not be opened, read, written or renamed
  kCorruption,  // bytes (a frame, a file) are malformed, truncated or fail their checksum
  kStale,       // a well-formed message that belongs to another round or model version
  kTimeout,     // nothing arrived in time
  kPeerLost,    // the peer is gone or the transport closed
  kDiverged,    // training produced non-finite values
  kForbidden,   // a peer sent what it may not (an answer for a task it was not given)
  kInterrupted, // the user stopped the run (Ctrl-C, SIGTERM)
  kTooFew,      // too few answers for what was asked (an aggregation rule's minimum)
};
const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(StatusCode::kFailed, std::move(message)); }
  static Status error(StatusCode code, std::string message) { return Status(code, std::move(message)); }
  static Status usage(std::string m) { return Status(StatusCode::kUsage, std::move(m)); }
  static Status io(std::string m) { return Status(StatusCode::kIo, std::move(m)); }
  static Status corruption(std::string m) { return Status(StatusCode::kCorruption, std::move(m)); }
  static Status stale(std::string m) { return Status(StatusCode::kStale, std::move(m)); }
  static Status timeout(std::string m) { return Status(StatusCode::kTimeout, std::move(m)); }
  static Status peer_lost(std::string m) { return Status(StatusCode::kPeerLost, std::move(m)); }
  static Status diverged(std::string m) { return Status(StatusCode::kDiverged, std::move(m)); }
  static Status forbidden(std::string m) { return Status(StatusCode::kForbidden, std::move(m)); }
  static Status too_few(std::string m) { return Status(StatusCode::kTooFew, std::move(m)); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const {
    static const std::string kOk = "ok";
    return is_ok() ? kOk : message_;
  }
  // Adds context in front, keeping the kind: "frame from worker 7: " + "payload checksum mismatch".
  Status prefixed(const std::string& context) const {
    return is_ok() ? *this : Status(code_, context + ": " + message_);
  }
  void throw_if_error() const {
    if (!is_ok()) throw Error(message_);
  }
  // For the top level (CLI): an error becomes an exception of type E.
  template <typename E>
  void throw_as() const {
    if (!is_ok()) throw E(message_);
  }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
    XFED_CHECK(code != StatusCode::kOk, "an error Status needs an error code");
  }
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    XFED_CHECK(!status_.is_ok(), "Result built from an ok Status without a value");
  }

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  StatusCode code() const { return status_.code(); }
  const std::string& message() const { return status_.message(); }

  T& value() & {
    XFED_CHECK(is_ok(), status_.message());
    return *value_;
  }
  const T& value() const& {
    XFED_CHECK(is_ok(), status_.message());
    return *value_;
  }
  T&& value() && {
    XFED_CHECK(is_ok(), status_.message());
    return std::move(*value_);
  }
  // For the top level (CLI): errors become exceptions of type E.
  template <typename E = Error>
  T value_or_throw() && {
    if (!is_ok()) throw E(status_.message());
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace xfed
