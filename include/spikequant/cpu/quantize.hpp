// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU reference quantize / dequantize for every granularity and scale source,
//! writing into caller buffers (zero-copy views).
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/estimator.hpp"
#include "spikequant/core/granularity.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/core/policy.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace spikequant::inline v0::cpu {

//! Number of scales a (rows, cols) tensor has under granularity G:
//! PerTensor 1, PerToken/PerChannel rows, PerGroup<N> rows * cols / N.
//! Throws Error when PerGroup<N>'s N does not divide cols.
template <Granularity G>
std::int64_t scale_count(std::int64_t rows, std::int64_t cols) {
  if constexpr (std::same_as<G, granularity::PerTensor>) {
    return 1;
  } else if constexpr (is_per_group_v<G>) {
    require(
        cols % G::GroupSize == 0,
        ErrorKind::kShape,
        "PerGroup<",
        G::GroupSize,
        ">: group size does not divide cols of (",
        rows,
        ", ",
        cols,
        ")");
    return rows * (cols / G::GroupSize);
  } else {
    return rows;
  }
}

namespace detail {
//! Which scale (index into scales) element (r, c) uses under G.
template <Granularity G>
std::int64_t scale_index(std::int64_t r, std::int64_t c, std::int64_t cols) {
  if constexpr (std::same_as<G, granularity::PerTensor>) {
    return 0;
  } else if constexpr (is_per_group_v<G>) {
    return r * (cols / G::GroupSize) + c / G::GroupSize;
  } else {
    return r;
  }
}

template <Granularity G>
void check_quantize_args(
    MatrixRef<float const> const& x,
    MatrixRef<std::int8_t> const& codes,
    std::span<float const> scales,
    char const* fn) {
  require(
      x.rows > 0 && x.cols > 0,
      ErrorKind::kShape,
      fn,
      ": input must be non-empty, got (",
      x.rows,
      ", ",
      x.cols,
      ")");
  require_same_shape(x, MatrixRef<std::int8_t const>(codes), "input", "codes");
  auto const n = scale_count<G>(x.rows, x.cols);
  require(
      static_cast<std::int64_t>(scales.size()) == n,
      ErrorKind::kShape,
      fn,
      ": ",
      G::name,
      " scales need ",
      n,
      " elements for input (",
      x.rows,
      ", ",
      x.cols,
      "), got ",
      scales.size());
}
}  // namespace detail

//! Computes scales with a reducible estimator (AbsMax by default) and quantizes x.
//! - codes[r, c] = quantize_value(x[r, c], 1 / scale), round half to even, saturated to +-127.
//! - An all-zero group gets scale 1 (codes 0).
//! - Throws Error(kNonFinite) naming the row when a group's scale is NaN or Inf (a NaN or Inf
//!   in the input); nothing is promised about codes already written.
//! @param[in]  x      (rows, cols) row-major float
//! @param[out] codes  (rows, cols) row-major int8
//! @param[out] scales scale_count<G>(rows, cols) floats
template <Granularity G, ReducibleEstimator E = AbsMax>
void quantize_dynamic(
    MatrixRef<float const> x,
    MatrixRef<std::int8_t> codes,
    std::span<float> scales,
    E const estimator = {}) {
  detail::check_quantize_args<G>(x, codes, scales, "quantize_dynamic");
  std::vector<float> acc(scales.size(), estimator.identity());
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) {
      auto& a = acc[static_cast<std::size_t>(detail::scale_index<G>(r, c, x.cols))];
      a = estimator.update(a, x(r, c));
    }
  }
  for (std::size_t i = 0; i < acc.size(); ++i) {
    scales[i] = estimator.finalize(acc[i]);
    require(
        is_finite(scales[i]),
        ErrorKind::kNonFinite,
        "quantize_dynamic: ",
        G::name,
        " scale ",
        i,
        " is ",
        scales[i],
        " (NaN or Inf in the input)");
  }
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) {
      float const s = scales[static_cast<std::size_t>(detail::scale_index<G>(r, c, x.cols))];
      codes(r, c) = quantize_value(x(r, c), inverse_scale(s));
    }
  }
}

//! Quantizes x with given (static, calibrated) scales; values beyond 127 * scale saturate.
//! - Throws Error(kNonFinite / kInvalidArgument) for a scale that is not finite and positive.
//! - NaN inputs give code 0, +-Inf give +-127.
template <Granularity G>
void quantize_static(
    MatrixRef<float const> x, std::span<float const> scales, MatrixRef<std::int8_t> codes) {
  detail::check_quantize_args<G>(x, codes, scales, "quantize_static");
  for (std::size_t i = 0; i < scales.size(); ++i) {
    require(
        is_finite(scales[i]),
        ErrorKind::kNonFinite,
        "quantize_static: scale ",
        i,
        " is ",
        scales[i]);
    require(
        scales[i] > 0.0f,
        ErrorKind::kInvalidArgument,
        "quantize_static: scale ",
        i,
        " must be > 0, got ",
        scales[i]);
  }
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) {
      float const s = scales[static_cast<std::size_t>(detail::scale_index<G>(r, c, x.cols))];
      codes(r, c) = quantize_value(x(r, c), inverse_scale(s));
    }
  }
}

//! Policy-driven entry point: dispatches on P's granularity and source.
//! For a Static policy `scales` is read (the calibrated scales); for a Dynamic one it is written.
template <ActivationPolicy P>
void quantize(MatrixRef<float const> x, MatrixRef<std::int8_t> codes, std::span<float> scales) {
  if constexpr (P::is_dynamic) {
    quantize_dynamic<typename P::Granularity>(x, codes, scales, typename P::Estimator{});
  } else {
    quantize_static<typename P::Granularity>(x, std::span<float const>(scales), codes);
  }
}

//! out[r, c] = codes[r, c] * scale(r, c).
template <Granularity G>
void dequantize(
    MatrixRef<std::int8_t const> codes, std::span<float const> scales, MatrixRef<float> out) {
  require_same_shape(codes, MatrixRef<float const>(out), "codes", "output");
  auto const n = scale_count<G>(codes.rows, codes.cols);
  require(
      static_cast<std::int64_t>(scales.size()) == n,
      ErrorKind::kShape,
      "dequantize: ",
      G::name,
      " scales need ",
      n,
      " elements for codes (",
      codes.rows,
      ", ",
      codes.cols,
      "), got ",
      scales.size());
  for (std::int64_t r = 0; r < codes.rows; ++r) {
    for (std::int64_t c = 0; c < codes.cols; ++c) {
      out(r, c) = dequantize_value(
          codes(r, c), scales[static_cast<std::size_t>(detail::scale_index<G>(r, c, codes.cols))]);
    }
  }
}

//! An owning quantized matrix: codes plus its scales under granularity G.
template <Granularity G>
struct QuantizedMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::int8_t> codes;  // (rows, cols) row-major
  std::vector<float> scales;       // scale_count<G>(rows, cols)

  [[nodiscard]] MatrixRef<std::int8_t const> view() const {
    return {codes.data(), rows, cols, cols};
  }
};

//! Convenience: allocates and returns codes and scales (dynamic, estimator E).
template <Granularity G, ReducibleEstimator E = AbsMax>
QuantizedMatrix<G> quantize_dynamic(MatrixRef<float const> x, E const estimator = {}) {
  require(
      x.rows > 0 && x.cols > 0,
      ErrorKind::kShape,
      "quantize_dynamic: input must be non-empty, got (",
      x.rows,
      ", ",
      x.cols,
      ")");
  QuantizedMatrix<G> q{
      x.rows,
      x.cols,
      std::vector<std::int8_t>(static_cast<std::size_t>(x.rows * x.cols)),
      std::vector<float>(static_cast<std::size_t>(scale_count<G>(x.rows, x.cols)))};
  quantize_dynamic<G>(
      x, MatrixRef<std::int8_t>{q.codes.data(), x.rows, x.cols, x.cols}, q.scales, estimator);
  return q;
}

}  // namespace spikequant::v0::cpu
