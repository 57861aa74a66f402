// Status and Result<T>: expected failures at I/O edges.
//
// A corrupt frame, a missing data file, a timeout or a lost peer is not a bug, so it is a
// value, not an exception: the caller decides whether to drop, retry or stop. Messages name
// the file/peer/flag and, where there is one, the remedy. They are turned into an exception
// or an exit code once, at the top (examples/), via value_or_throw().
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "core/check.h"

namespace xfed {

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool is_ok() const { return !message_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const std::string& message() const {
    static const std::string kOk = "ok";
    return message_ ? *message_ : kOk;
  }
  // Adds context in front: "frame from worker 7: " + "payload checksum mismatch".
  Status prefixed(const std::string& context) const {
    return is_ok() ? *this : Status(context + ": " + *message_);
  }
  void throw_if_error() const {
    if (!is_ok()) throw Error(*message_);
  }
  // For the top level (CLI): an error becomes an exception of type E.
  template <typename E>
  void throw_as() const {
    if (!is_ok()) throw E(*message_);
  }

 private:
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
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
  const std::string& message() const { return status_.message(); }

  T& value() & {
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
