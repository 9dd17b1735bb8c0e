// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file SmoothQuant: per-input-channel smoothing factors and their folding into the preceding
//! RMSNorm weight and every consumer linear (all siblings), leaving the float output unchanged.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/numeric.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace spikequant::inline v0::cpu {

//! Smallest and largest factor smoothquant_factors returns (SmoothQuant's reference code
//! clamps at 1e-5 from below; the upper clamp keeps 1/s representable as a normal float).
inline constexpr float kSmoothFactorMin = 1e-5f;
inline constexpr float kSmoothFactorMax = 1e5f;

//! Per-column maximum of |x| over rows: the statistic SmoothQuant collects for activations
//! (over calibration tokens) and for weights (over output channels).
//! - Throws Error(kNonFinite) naming the element for NaN/Inf, Error(kShape) for an empty x.
//! @param[in] x (R, K) float
//! @return      K floats
inline std::vector<float> column_absmax(MatrixRef<float const> x) {
  require(
      x.rows > 0 && x.cols > 0,
      ErrorKind::kShape,
      "column_absmax: input must be non-empty, got (",
      x.rows,
      ", ",
      x.cols,
      ")");
  std::vector<float> amax(static_cast<std::size_t>(x.cols), 0.0f);  // K
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) {
      float const v = x(r, c);
      require(
          is_finite(v),
          ErrorKind::kNonFinite,
          "column_absmax: non-finite value ",
          v,
          " at (",
          r,
          ", ",
          c,
          ")");
      auto& a = amax[static_cast<std::size_t>(c)];
      a = std::max(a, std::fabs(v));
    }
  }
  return amax;
}

//! Per-input-channel max |W[:, j]| over several consumer weights that read the same input
//! (siblings: q, k, v or gate, up), each (N_i, K).
//! - Throws Error(kShape) naming the shapes when the weights disagree on K or none is given.
//! @return K floats
inline std::vector<float> weight_column_absmax(std::span<MatrixRef<float const> const> weights) {
  require(
      !weights.empty(),
      ErrorKind::kInvalidArgument,
      "weight_column_absmax: no consumer weights given");
  std::vector<float> amax = column_absmax(weights[0]);  // K
  for (std::size_t i = 1; i < weights.size(); ++i) {
    require(
        weights[i].cols == weights[0].cols,
        ErrorKind::kShape,
        "weight_column_absmax: weight 0 is (",
        weights[0].rows,
        ", ",
        weights[0].cols,
        ") but weight ",
        i,
        " is (",
        weights[i].rows,
        ", ",
        weights[i].cols,
        "): in_features differ");
    auto const a = column_absmax(weights[i]);
    for (std::size_t j = 0; j < amax.size(); ++j) {
      amax[j] = std::max(amax[j], a[j]);
    }
  }
  return amax;
}

//! SmoothQuant factors s_j = max|X_j|^alpha / max|W_j|^(1 - alpha), per input channel j.
//! - alpha in [0, 1]: 0 leaves activations alone (s = 1 / max|W_j|), 1 moves all of the
//!   range into the weights (s = max|X_j|); 0.5 is SmoothQuant's default.
//! - A column whose activation or weight maximum is 0 gets s_j = 1: it carries nothing, and
//!   0^a / 0^b would be 0, Inf or NaN.
//! - Computed in double, then clamped to [kSmoothFactorMin, kSmoothFactorMax]: every factor
//!   is finite and positive, so folding never divides by zero.
//! - Throws Error(kShape) when the two vectors differ in length (or are empty),
//!   Error(kInvalidArgument) for alpha outside [0, 1] (or NaN), Error(kNonFinite) for a
//!   NaN/Inf or negative maximum.
//! @param[in] act_absmax    K floats: max over calibration tokens of |X[:, j]|
//! @param[in] weight_absmax K floats: max over all consumer weights of |W[:, j]|
//! @return                  K factors s
inline std::vector<float> smoothquant_factors(
    std::span<float const> act_absmax, std::span<float const> weight_absmax, float alpha) {
  require(
      !act_absmax.empty() && act_absmax.size() == weight_absmax.size(),
      ErrorKind::kShape,
      "smoothquant_factors: act_absmax has ",
      act_absmax.size(),
      " elements but weight_absmax has ",
      weight_absmax.size(),
      " (need the same K > 0)");
  require(
      alpha >= 0.0f && alpha <= 1.0f,
      ErrorKind::kInvalidArgument,
      "smoothquant_factors: alpha must be in [0, 1], got ",
      alpha);
  std::vector<float> s(act_absmax.size());  // K
  for (std::size_t j = 0; j < s.size(); ++j) {
    float const xa = act_absmax[j];
    float const wa = weight_absmax[j];
    require(
        is_finite(xa) && is_finite(wa) && xa >= 0.0f && wa >= 0.0f,
        ErrorKind::kNonFinite,
        "smoothquant_factors: channel ",
        j,
        " has act_absmax ",
        xa,
        " and weight_absmax ",
        wa,
        " (need finite values >= 0)");
    if (xa == 0.0f || wa == 0.0f) {
      s[j] = 1.0f;
      continue;
    }
    double const v = std::pow(static_cast<double>(xa), static_cast<double>(alpha)) /
                     std::pow(static_cast<double>(wa), 1.0 - static_cast<double>(alpha));
    s[j] = static_cast<float>(std::clamp(
        v, static_cast<double>(kSmoothFactorMin), static_cast<double>(kSmoothFactorMax)));
  }
  return s;
}

//! Folds smoothing factors into the model so that X' = X diag(1/s) and W' = W diag(s):
//! norm_weight[j] /= s_j (the RMSNorm that produces X) and W[:, j] *= s_j for every consumer.
//! - Pass *all* consumers of the normed input (q, k, v or gate, up): a sibling left out would
//!   see X / s with its old weight and compute a different result.
//! - The float output X' W'^T equals X W^T up to rounding (two float roundings per element).
//! - Throws Error(kShape) naming the shapes when a size differs from K = norm_weight.size(),
//!   Error(kInvalidArgument) for an empty consumer list, Error(kNonFinite) for a factor that is
//!   not finite and positive. Nothing is modified when it throws.
//! @param[in,out] norm_weight K floats: the preceding RMSNorm gain
//! @param[in,out] consumers   weights (N_i, K) float, each scaled column-wise in place
//! @param[in]     factors     K floats from smoothquant_factors
inline void fold_smoothing(
    std::span<float> norm_weight,
    std::span<MatrixRef<float> const> consumers,
    std::span<float const> factors) {
  auto const k = static_cast<std::int64_t>(norm_weight.size());
  require(
      static_cast<std::int64_t>(factors.size()) == k && k > 0,
      ErrorKind::kShape,
      "fold_smoothing: factors has ",
      factors.size(),
      " elements but norm_weight has ",
      norm_weight.size(),
      " (need the same K > 0)");
  require(!consumers.empty(), ErrorKind::kInvalidArgument, "fold_smoothing: no consumer weights");
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    require(
        consumers[i].rows > 0 && consumers[i].cols == k,
        ErrorKind::kShape,
        "fold_smoothing: consumer ",
        i,
        " is (",
        consumers[i].rows,
        ", ",
        consumers[i].cols,
        ") but norm_weight has K = ",
        k,
        " elements");
  }
  for (std::size_t j = 0; j < factors.size(); ++j) {
    require(
        is_finite(factors[j]) && factors[j] > 0.0f,
        ErrorKind::kNonFinite,
        "fold_smoothing: factor ",
        j,
        " is ",
        factors[j],
        " (need finite and > 0)");
  }
  for (std::size_t j = 0; j < norm_weight.size(); ++j) {
    norm_weight[j] /= factors[j];
  }
  for (auto const& w : consumers) {
    for (std::int64_t r = 0; r < w.rows; ++r) {
      for (std::int64_t c = 0; c < w.cols; ++c) {
        w(r, c) *= factors[static_cast<std::size_t>(c)];
      }
    }
  }
}

}  // namespace spikequant::v0::cpu
