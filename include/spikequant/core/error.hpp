// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file spikequant::Error, the one exception type the library throws, and its check helpers.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace spikequant::inline v0 {

//! What went wrong, so callers can react without parsing the message.
enum class ErrorKind {
  kInvalidArgument,  //!< a value out of its documented range (size, group size, alpha, id)
  kShape,            //!< tensor shapes that do not fit together
  kAlignment,        //!< a pointer or leading dimension a kernel cannot use
  kNonFinite,        //!< NaN or Inf where a finite value is required
  kFormat,           //!< a malformed or truncated file
  kIo,               //!< a file that cannot be opened or read
  kCuda,             //!< a CUDA / cuBLASLt call that failed
  kUnsupported,      //!< a valid request this build or device cannot serve
};

//! Human-readable name of an ErrorKind ("shape", "format", ...).
inline constexpr std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
  case ErrorKind::kInvalidArgument:
    return "invalid argument";
  case ErrorKind::kShape:
    return "shape";
  case ErrorKind::kAlignment:
    return "alignment";
  case ErrorKind::kNonFinite:
    return "non-finite value";
  case ErrorKind::kFormat:
    return "format";
  case ErrorKind::kIo:
    return "io";
  case ErrorKind::kCuda:
    return "cuda";
  case ErrorKind::kUnsupported:
    return "unsupported";
  }
  return "unknown";
}

//! The exception every spikequant function throws on misuse or bad input.
//! - `what()` is one line naming the argument and the values involved.
//! - `kind()` classifies the failure for programmatic handling.
class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, std::string const& message)
      : std::runtime_error(message)
      , kind_(kind) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }

private:
  ErrorKind kind_;
};

namespace detail {
//! Joins any streamable values into one message string.
template <class... Parts>
std::string concat(Parts const&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

//! Throws Error(kind, concat(parts...)) unless `condition` holds.
//! Usage: `require(k > 0, ErrorKind::kInvalidArgument, "quantize: cols must be > 0, got ", k);`
template <class... Parts>
void require(bool condition, ErrorKind kind, Parts const&... parts) {
  if (!condition) {
    throw Error(kind, detail::concat(parts...));
  }
}

//! Throws Error(kind, concat(parts...)) unconditionally.
template <class... Parts>
[[noreturn]] void fail(ErrorKind kind, Parts const&... parts) {
  throw Error(kind, detail::concat(parts...));
}

}  // namespace spikequant::v0
