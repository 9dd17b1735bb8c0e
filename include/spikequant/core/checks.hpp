// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file One-line argument checks shared by every backend's can_implement: null pointers,
//! alignment and leading dimensions, each raising spikequant::Error with the argument's name
//! (`what`, e.g. "sm80 int8 gemm: a (activations)") and the offending values.
#pragma once

#include "spikequant/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace spikequant::inline v0 {

//! True when `ptr` is a multiple of `bytes` (bytes a power of two).
inline bool is_aligned(void const* ptr, std::size_t bytes) noexcept {
  return (reinterpret_cast<std::uintptr_t>(ptr) & (bytes - 1)) == 0;
}

//! Error(kInvalidArgument) "<what>: null pointer" when `ptr` is null.
inline void require_not_null(void const* ptr, std::string_view what) {
  require(ptr != nullptr, ErrorKind::kInvalidArgument, what, ": null pointer");
}

//! Error(kAlignment) "<what>: pointer 0x... is not <bytes>-byte aligned (offset o)".
inline void require_aligned(void const* ptr, std::size_t bytes, std::string_view what) {
  require(
      is_aligned(ptr, bytes),
      ErrorKind::kAlignment,
      what,
      ": pointer ",
      ptr,
      " is not ",
      bytes,
      "-byte aligned (offset ",
      reinterpret_cast<std::uintptr_t>(ptr) % bytes,
      ")");
}

//! require_not_null, then require_aligned: the check of every buffer a kernel reads or writes.
inline void require_pointer(void const* ptr, std::size_t bytes, std::string_view what) {
  require_not_null(ptr, what);
  require_aligned(ptr, bytes, what);
}

//! Error(kAlignment) unless rows `ld` elements of `elem_bytes` apart all start `bytes`-aligned.
inline void require_ld_aligned(
    std::int64_t ld, std::size_t elem_bytes, std::size_t bytes, std::string_view what) {
  auto const row_bytes = static_cast<std::uint64_t>(ld) * elem_bytes;
  require(
      row_bytes % bytes == 0,
      ErrorKind::kAlignment,
      what,
      ": leading dimension ",
      ld,
      " (",
      row_bytes,
      " bytes per row) is not a multiple of ",
      bytes,
      " bytes");
}

//! Error(kShape) "<what>: leading dimension ld < cols" when rows would overlap.
inline void require_ld_covers(std::int64_t ld, std::int64_t cols, std::string_view what) {
  require(ld >= cols, ErrorKind::kShape, what, ": leading dimension ", ld, " < ", cols);
}

//! require_ld_covers, then require_ld_aligned.
inline void require_ld(
    std::int64_t ld,
    std::int64_t cols,
    std::size_t elem_bytes,
    std::size_t bytes,
    std::string_view what) {
  require_ld_covers(ld, cols, what);
  require_ld_aligned(ld, elem_bytes, bytes, what);
}

}  // namespace spikequant::v0
