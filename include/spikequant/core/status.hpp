// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Status: the verdict of a can_implement check as a value (CUTLASS style), beside the
//! throwing form. A failed Status carries the same kind and message the Error would.
#pragma once

#include "spikequant/core/error.hpp"

#include <new>
#include <string>
#include <utility>

namespace spikequant::inline v0 {

class Status {
public:
  //! Success.
  Status() = default;
  //! Failure of `kind` with `message` (the text Error::what() would give).
  Status(ErrorKind kind, std::string message)
      : ok_(false)
      , kind_(kind)
      , message_(std::move(message)) {}

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  //! The failure's kind (meaningless when ok()).
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  //! The failure's message ("" when ok()).
  [[nodiscard]] std::string const& message() const noexcept { return message_; }

  //! Throws the Error this status describes; does nothing when ok().
  void throw_if_failed() const {
    if (!ok_) {
      throw Error(kind_, message_);
    }
  }

private:
  bool ok_ = true;
  ErrorKind kind_ = ErrorKind::kInvalidArgument;
  std::string message_;
};

//! Runs a throwing check and returns its verdict; never throws (an allocation failure while
//! building a message is reported as kUnsupported with a fixed text).
template <class Check>
Status status_of(Check&& check) noexcept {
  try {
    std::forward<Check>(check)();
    return {};
  } catch (Error const& e) {
    return {e.kind(), e.what()};
  } catch (std::bad_alloc const&) {
    return {ErrorKind::kUnsupported, "out of memory while checking arguments"};
  }
}

}  // namespace spikequant::v0
