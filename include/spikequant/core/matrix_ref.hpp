// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file MatrixRef: a non-owning row-major (rows, cols) view with a leading dimension.
//! Both backends take caller buffers through it; nothing is copied.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/core/error.hpp"

#include <cstdint>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>

namespace spikequant::inline v0 {

//! Row-major view: element (r, c) is data[r * ld + c]. Usable in host and device code.
template <class T>
struct MatrixRef {
  T* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t ld = 0;  //!< elements between the starts of consecutive rows, >= cols

  SPIKEQUANT_HOST_DEVICE T& operator()(std::int64_t r, std::int64_t c) const {
    return data[r * ld + c];
  }
  SPIKEQUANT_HOST_DEVICE T* row(std::int64_t r) const { return data + r * ld; }
  SPIKEQUANT_HOST_DEVICE std::int64_t size() const { return rows * cols; }
  //! Read-only view of the same memory.
  //! A template so MatrixRef<T const> declares no conversion to itself (nvcc warning #554).
  template <class U = T>
  requires(!std::is_const_v<U>) SPIKEQUANT_HOST_DEVICE operator MatrixRef<U const>() const {
    return {data, rows, cols, ld};
  }
};

//! Throws Error(kShape) naming `what` unless rows > 0, cols > 0 and ld >= cols.
inline void
require_matrix_shape(std::int64_t rows, std::int64_t cols, std::int64_t ld, std::string_view what) {
  require(
      rows > 0 && cols > 0,
      ErrorKind::kShape,
      what,
      ": sizes must be positive, got (",
      rows,
      ", ",
      cols,
      ")");
  require(ld >= cols, ErrorKind::kShape, what, ": leading dimension ", ld, " < cols ", cols);
}

//! Validated view over `data` with `rows` x `cols` elements, row stride `ld` (default cols).
//! Throws Error naming `what` when a size is not positive, ld < cols, or data is null.
template <class T>
MatrixRef<T> make_matrix_ref(
    T* data,
    std::int64_t rows,
    std::int64_t cols,
    std::int64_t ld = -1,
    std::string_view what = "matrix") {
  if (ld < 0) {
    ld = cols;
  }
  require_matrix_shape(rows, cols, ld, what);
  require(data != nullptr, ErrorKind::kInvalidArgument, what, ": null data pointer");
  return {data, rows, cols, ld};
}

//! View over any contiguous range holding exactly rows * cols elements, as std::span's range
//! constructor takes it: a std::vector, std::array, std::span, C array, ... (const ranges
//! give MatrixRef<T const>). A temporary that owns its elements (a std::vector rvalue) is
//! rejected at compile time: the view would dangle.
//! Throws Error(kShape) naming `what` when a size is not positive or the element count differs.
template <std::ranges::contiguous_range R>
requires std::ranges::sized_range<R> && std::ranges::borrowed_range<R>
    MatrixRef<std::remove_reference_t<std::ranges::range_reference_t<R>>> make_matrix_ref(
        R&& data, std::int64_t rows, std::int64_t cols, std::string_view what = "matrix") {
  require_matrix_shape(rows, cols, cols, what);
  auto const size = static_cast<std::int64_t>(std::ranges::size(data));
  require(
      size == rows * cols,
      ErrorKind::kShape,
      what,
      ": buffer holds ",
      size,
      " elements, (",
      rows,
      ", ",
      cols,
      ") needs ",
      rows * cols);
  return {std::ranges::data(data), rows, cols, cols};
}

//! Throws Error(kShape) naming both operands unless a and b have the same (rows, cols).
template <class A, class B>
void require_same_shape(
    MatrixRef<A> const& a,
    MatrixRef<B> const& b,
    std::string_view what_a,
    std::string_view what_b) {
  require(
      a.rows == b.rows && a.cols == b.cols,
      ErrorKind::kShape,
      what_a,
      " is (",
      a.rows,
      ", ",
      a.cols,
      ") but ",
      what_b,
      " is (",
      b.rows,
      ", ",
      b.cols,
      ")");
}

}  // namespace spikequant::v0
