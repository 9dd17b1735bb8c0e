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

#include <algorithm>
#include <cmath>
#include <concepts>
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

//! Calls f(r, c0, c1, s) for each run of columns [c0, c1) of row r whose elements all use
//! scale s = scale_index<G>(r, c, cols), rows in order and runs left to right: whole rows
//! (PerTensor, PerToken, PerChannel) or groups of G::GroupSize (PerGroup). Visiting a tensor
//! run by run is row-major element order, but the scale and its reciprocal are looked up
//! once per run instead of once per element.
template <Granularity G, class F>
void for_each_scale_run(std::int64_t rows, std::int64_t cols, F&& f) {
  for (std::int64_t r = 0; r < rows; ++r) {
    if constexpr (is_per_group_v<G>) {
      for (std::int64_t c0 = 0; c0 < cols; c0 += G::GroupSize) {
        f(r, c0, c0 + G::GroupSize, scale_index<G>(r, c0, cols));
      }
    } else {
      f(r, std::int64_t{0}, cols, scale_index<G>(r, 0, cols));
    }
  }
}

//! Folds x[0, n) into acc in order with estimator.update: the definition of a group's
//! statistic.
template <ReducibleEstimator E>
float fold_in_order(E const& estimator, float acc, float const* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    acc = estimator.update(acc, x[i]);
  }
  return acc;
}

//! max |x[i]| over x[0, n) for AbsMax's fast path; saw_nan tells whether x holds a NaN.
//! Folding absmax_update in order serialises every element behind the previous one and
//! branches on each sign; kLanes independent maxima of std::fabs(x) do neither (GCC emits
//! branch-free maxss). A NaN is not propagated here (the caller folds in order instead).
inline float absmax_lanes(float const* x, std::int64_t n, bool& saw_nan) {
  constexpr int kLanes = 8;
  float lane[kLanes] = {};
  bool nan = false;
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      float const ax = std::fabs(x[i + l]);
      lane[l] = ax > lane[l] ? ax : lane[l];
      nan |= !(x[i + l] == x[i + l]);
    }
  }
  float m = 0.0f;
  for (float const v : lane) {
    m = v > m ? v : m;
  }
  for (; i < n; ++i) {
    float const ax = std::fabs(x[i]);
    m = ax > m ? ax : m;
    nan |= !(x[i] == x[i]);
  }
  saw_nan = nan;
  return m;
}

//! fold_in_order(estimator, acc, x, n), bit for bit, faster for AbsMax.
//! Why AbsMax may reorder: without a NaN in x, folding in order gives acc's maximum with the
//! largest |x[i]|. A maximum is the same value in any order, and its bits are too: every
//! candidate is >= +0 (absmax_update never lets -0 replace the +0 identity, and std::fabs
//! never returns -0), and absmax_combine(acc, m) keeps a NaN acc just as the in-order fold
//! does. With a NaN in x, which NaN wins (its sign shows in the error message) depends on
//! the order, so that case, an error anyway, folds in order.
template <ReducibleEstimator E>
float fold(E const& estimator, float acc, float const* x, std::int64_t n) {
  if constexpr (std::same_as<E, AbsMax>) {
    bool saw_nan = false;
    float const m = absmax_lanes(x, n, saw_nan);
    if (!saw_nan) {
      return estimator.combine(acc, m);
    }
  }
  return fold_in_order(estimator, acc, x, n);
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

//! Pass 2 of every quantize: codes[r, c] = quantize_value(x[r, c], 1 / scale(r, c)), the
//! reciprocal computed once per run of columns sharing a scale (the same float each time).
template <Granularity G>
void quantize_runs(
    MatrixRef<float const> const& x,
    std::span<float const> scales,
    MatrixRef<std::int8_t> const& codes) {
  for_each_scale_run<G>(
      x.rows, x.cols, [&](std::int64_t r, std::int64_t c0, std::int64_t c1, std::int64_t s) {
        float const inv = inverse_scale(scales[static_cast<std::size_t>(s)]);
        float const* xr = x.row(r);
        std::int8_t* cr = codes.row(r);
        for (std::int64_t c = c0; c < c1; ++c) {
          cr[c] = quantize_value(xr[c], inv);
        }
      });
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
  // Pass 1: every scale, in index order; the first non-finite one throws (no code written).
  auto const finalize = [&](std::int64_t i, float statistic) {
    float const s = scales[static_cast<std::size_t>(i)] = estimator.finalize(statistic);
    require(
        is_finite(s),
        ErrorKind::kNonFinite,
        "quantize_dynamic: ",
        G::name,
        " scale ",
        i,
        " is ",
        s,
        " (NaN or Inf in the input)");
  };
  if constexpr (std::same_as<G, granularity::PerTensor>) {
    float statistic = estimator.identity();
    for (std::int64_t r = 0; r < x.rows; ++r) {
      statistic = detail::fold(estimator, statistic, x.row(r), x.cols);
    }
    finalize(0, statistic);
  } else {
    // One run of columns per scale: a row (PerToken, PerChannel) or a group (PerGroup).
    detail::for_each_scale_run<G>(
        x.rows, x.cols, [&](std::int64_t r, std::int64_t c0, std::int64_t c1, std::int64_t i) {
          finalize(i, detail::fold(estimator, estimator.identity(), x.row(r) + c0, c1 - c0));
        });
  }
  // Pass 2: the codes.
  detail::quantize_runs<G>(x, std::span<float const>(scales), codes);
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
  detail::quantize_runs<G>(x, std::span<float const>(scales), codes);
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
  detail::for_each_scale_run<G>(
      codes.rows,
      codes.cols,
      [&](std::int64_t r, std::int64_t c0, std::int64_t c1, std::int64_t s) {
        float const scale = scales[static_cast<std::size_t>(s)];
        for (std::int64_t c = c0; c < c1; ++c) {
          out(r, c) = dequantize_value(codes(r, c), scale);
        }
      });
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
