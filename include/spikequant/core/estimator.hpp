// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Scale estimators: reducible ones (AbsMax) run inside kernels; sample ones
//! (Percentile, MseClip) need the whole calibration sample and only feed Static scales.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/numeric.hpp"

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace spikequant::inline v0 {

//! An estimator that is a monoid over the values, so it lowers to a per-thread loop plus a
//! warp/block reduction inside a quantize kernel.
template <class E>
concept ReducibleEstimator = std::semiregular<E> && requires(E const e, float acc, float x) {
  // The neutral element: what an empty (or all-zero) group reduces to.
  { e.identity() } -> std::same_as<float>;
  // Folds one value into a thread's running statistic.
  { e.update(acc, x) } -> std::same_as<float>;
  // Merges two partial statistics (warp shuffles, block and grid reductions).
  { e.combine(acc, acc) } -> std::same_as<float>;
  // Turns the reduced statistic into the quantization scale.
  { e.finalize(acc) } -> std::same_as<float>;
};

//! An estimator that needs the whole sample at once (a sort, a search), so it cannot run in
//! a single-pass kernel. It maps a sample of values to a scale on the host.
template <class E>
concept SampleEstimator = std::semiregular<E> && requires(E const e, std::span<float const> s) {
  // Sample (any order, any length >= 1) -> a finite positive scale.
  { e.scale_of(s) } -> std::same_as<float>;
};

//! Any estimator usable for a static scale.
template <class E>
concept Estimator = ReducibleEstimator<E> || SampleEstimator<E>;

//! scale = max|x| / 127 (the paper's and SmoothQuant's choice).
struct AbsMax {
  static constexpr std::string_view name = "absmax";
  SPIKEQUANT_HOST_DEVICE float identity() const { return 0.0f; }
  SPIKEQUANT_HOST_DEVICE float update(float acc, float x) const { return absmax_update(acc, x); }
  SPIKEQUANT_HOST_DEVICE float combine(float a, float b) const { return absmax_combine(a, b); }
  SPIKEQUANT_HOST_DEVICE float finalize(float amax) const { return scale_from_absmax(amax); }
  friend bool operator==(AbsMax, AbsMax) = default;
};
static_assert(ReducibleEstimator<AbsMax>);

namespace detail {
//! Rejects empty or non-finite samples with one message for every sample estimator.
inline void check_sample(std::span<float const> sample, std::string_view who) {
  require(!sample.empty(), ErrorKind::kInvalidArgument, who, ": empty sample");
  for (std::size_t i = 0; i < sample.size(); ++i) {
    require(
        is_finite(sample[i]),
        ErrorKind::kNonFinite,
        who,
        ": non-finite value ",
        sample[i],
        " at index ",
        i);
  }
}
}  // namespace detail

//! scale = (P-th percentile of |x|) / 127, P in (0, 100]. Clips the rare tail; host only.
//! Percentile uses the nearest-rank definition: the ceil(P/100 * n)-th smallest |x|.
template <double P>
struct Percentile {
  static_assert(P > 0.0 && P <= 100.0, "Percentile<P>: P must be in (0, 100]");
  static constexpr double percent = P;
  static constexpr std::string_view name = "percentile";

  float scale_of(std::span<float const> sample) const {
    detail::check_sample(sample, "Percentile::scale_of");
    std::vector<float> mags(sample.size());
    std::transform(
        sample.begin(), sample.end(), mags.begin(), [](float v) { return std::fabs(v); });
    auto const n = mags.size();
    auto rank = static_cast<std::size_t>(std::ceil(P / 100.0 * static_cast<double>(n)));
    rank = std::clamp<std::size_t>(rank, 1, n);
    std::nth_element(
        mags.begin(), mags.begin() + static_cast<std::ptrdiff_t>(rank - 1), mags.end());
    return scale_from_absmax(mags[rank - 1]);
  }
  friend bool operator==(Percentile, Percentile) = default;
};

//! Searches a clipping ratio c in [min_ratio, 1] (steps evenly spaced values, 1 included)
//! that minimises the mean squared quantize-dequantize error of the sample; scale =
//! c * absmax / 127. Ties go to the larger c (less clipping). Host only.
struct MseClip {
  static constexpr std::string_view name = "mse-clip";
  int steps = 100;         //!< candidates tried, >= 1
  float min_ratio = 0.5f;  //!< smallest clipping ratio tried, in (0, 1]

  float scale_of(std::span<float const> sample) const {
    detail::check_sample(sample, "MseClip::scale_of");
    require(steps >= 1, ErrorKind::kInvalidArgument, "MseClip: steps must be >= 1, got ", steps);
    require(
        min_ratio > 0.0f && min_ratio <= 1.0f,
        ErrorKind::kInvalidArgument,
        "MseClip: min_ratio must be in (0, 1], got ",
        min_ratio);
    float amax = 0.0f;
    for (float v : sample) {
      amax = absmax_update(amax, v);
    }
    if (amax == 0.0f) {
      return scale_from_absmax(amax);
    }
    float best_scale = scale_from_absmax(amax);
    double best_err = -1.0;
    for (int i = 0; i < steps; ++i) {
      float const ratio = steps == 1 ? 1.0f
                                     : 1.0f - (1.0f - min_ratio) * static_cast<float>(i) /
                                                  static_cast<float>(steps - 1);
      float const scale = scale_from_absmax(ratio * amax);
      float const inv = inverse_scale(scale);
      double err = 0.0;
      for (float v : sample) {
        double const d = static_cast<double>(dequantize_value(quantize_value(v, inv), scale)) - v;
        err += d * d;
      }
      if (best_err < 0.0 || err < best_err) {
        best_err = err;
        best_scale = scale;
      }
    }
    return best_scale;
  }
  friend bool operator==(MseClip const&, MseClip const&) = default;
};
static_assert(SampleEstimator<MseClip>);
static_assert(SampleEstimator<Percentile<99.9>>);

}  // namespace spikequant::v0
