// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU reference RMSNorm: y = x * rsqrt(mean(x^2) + eps) * w, row by row.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/numeric.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

namespace spikequant::inline v0::cpu {

//! Row-wise RMSNorm (LLaMA): out[t, j] = x[t, j] * inv_rms[t] * weight[j], with
//! inv_rms[t] = 1 / sqrt(mean_j(x[t, j]^2) + eps).
//! - The sum of squares is accumulated in double (this is the reference the CUDA kernel is
//!   checked against); inv_rms is rounded to float once, then every element is
//!   (x * inv_rms) * weight in float, in that order.
//! - `out` may alias `x` exactly (same data and ld): a row is fully read before it is written.
//! - eps must be finite and >= 0; an all-zero row with eps == 0 gives 0 * Inf = NaN, so
//!   pass eps > 0 (LLaMA uses 1e-5 or 1e-6) when rows can be zero.
//! - Throws Error(kShape) naming the shapes when weight has not `cols` elements, out's shape
//!   differs from x's, or x is empty; Error(kInvalidArgument) for a bad eps.
//! @param[in]  x      (M, D) float
//! @param[in]  weight D float (the norm's learned gain)
//! @param[in]  eps    added to the mean square
//! @param[out] out    (M, D) float
inline void
rmsnorm(MatrixRef<float const> x, std::span<float const> weight, float eps, MatrixRef<float> out) {
  require(
      x.rows > 0 && x.cols > 0,
      ErrorKind::kShape,
      "rmsnorm: input must be non-empty, got (",
      x.rows,
      ", ",
      x.cols,
      ")");
  require(
      static_cast<std::int64_t>(weight.size()) == x.cols,
      ErrorKind::kShape,
      "rmsnorm: weight has ",
      weight.size(),
      " elements but input is (",
      x.rows,
      ", ",
      x.cols,
      ")");
  require_same_shape(x, MatrixRef<float const>(out), "rmsnorm: input", "output");
  require(
      is_finite(eps) && eps >= 0.0f,
      ErrorKind::kInvalidArgument,
      "rmsnorm: eps must be finite and >= 0, got ",
      eps);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    double sum_sq = 0.0;
    for (std::int64_t c = 0; c < x.cols; ++c) {
      double const v = x(r, c);
      sum_sq += v * v;
    }
    double const mean_sq = sum_sq / static_cast<double>(x.cols);
    auto const inv_rms = static_cast<float>(1.0 / std::sqrt(mean_sq + static_cast<double>(eps)));
    for (std::int64_t c = 0; c < x.cols; ++c) {
      out(r, c) = (x(r, c) * inv_rms) * weight[static_cast<std::size_t>(c)];
    }
  }
}

}  // namespace spikequant::v0::cpu
