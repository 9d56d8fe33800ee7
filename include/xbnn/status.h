// Error values for every public entry point: no exceptions cross the API.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace xbnn {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message), true); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Adds context in front, e.g. "op 3 (LceBconv2d): " + message.
  Status Prefixed(const std::string& prefix) const {
    return ok() ? *this : Error(prefix + message_);
  }

 private:
  Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

// A value or an error. Accessing value() of an error is a programming bug (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace xbnn

#define XBNN_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::xbnn::Status xbnn_status_ = (expr);   \
    if (!xbnn_status_.ok()) return xbnn_status_; \
  } while (0)
