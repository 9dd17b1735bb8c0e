// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file INT8 rounding, saturation and scale arithmetic, written once for host and device.
#pragma once

#include "spikequant/core/config.hpp"

#include <cmath>
#include <cstdint>

namespace spikequant::inline v0 {

//! Largest magnitude of a symmetric INT8 code. -128 is never produced, so negation is exact.
inline constexpr int kInt8Max = 127;

//! Largest K for which an INT8 x INT8 dot product accumulates in int32 without overflow:
//! |a * b| <= 128 * 128 = 2^14, so 2^17 terms stay within int32 unless every one is
//! (-128) * (-128), which symmetric codes in [-127, 127] never produce. Both backends check it.
inline constexpr std::int64_t kMaxInt8AccumulationK = 131072;

//! Rounds to the nearest integer, ties to even (PyTorch's torch.round, PTX cvt.rni).
//! - Host: std::rint under the default rounding mode (FE_TONEAREST); the library never changes it.
SPIKEQUANT_HOST_DEVICE float round_half_even(float v) {
#if defined(__CUDA_ARCH__)
  return rintf(v);
#else
  return std::rint(v);
#endif
}

//! Scale -> the factor a value is multiplied by before rounding.
//! Both backends multiply by this same reciprocal (never divide), so codes match bit for bit.
//! Device code uses the _rn intrinsics: IEEE round-to-nearest even when the caller compiles
//! with --use_fast_math (which would otherwise approximate `/`), and never fused into an FMA.
SPIKEQUANT_HOST_DEVICE float inverse_scale(float scale) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(1.0f, scale);
#else
  return 1.0f / scale;
#endif
}

//! Quantizes one value: round_half_even(x * inv_scale), saturated to [-127, 127].
//! - NaN maps to code 0; +-Inf saturate to +-127 (same as PTX cvt.rni.sat after the clamp).
//! - Saturation matters for static scales, where a value may exceed the calibrated range.
SPIKEQUANT_HOST_DEVICE std::int8_t quantize_value(float x, float inv_scale) {
#if defined(__CUDA_ARCH__)
  float v = __fmul_rn(x, inv_scale);
#else
  float v = x * inv_scale;
#endif
  if (!(v == v)) {
    return 0;
  }
  v = v < -127.0f ? -127.0f : (v > 127.0f ? 127.0f : v);
  return static_cast<std::int8_t>(round_half_even(v));
}

//! Dequantizes one code: code * scale.
SPIKEQUANT_HOST_DEVICE float dequantize_value(std::int8_t code, float scale) {
  return static_cast<float>(code) * scale;
}

//! Symmetric scale from an absolute maximum: absmax / 127.
//! - absmax == 0 (an all-zero group) gives scale 1, so codes are 0 and 0/0 never happens.
//! - A NaN or Inf absmax gives a non-finite scale; host entry points report it as an Error.
SPIKEQUANT_HOST_DEVICE float scale_from_absmax(float absmax) {
  if (absmax == 0.0f) {
    return 1.0f;
  }
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(absmax, static_cast<float>(kInt8Max));  // exact division under fast math too
#else
  return absmax / static_cast<float>(kInt8Max);
#endif
}

//! |x| folded into a running maximum; NaN propagates so a poisoned input is never hidden.
SPIKEQUANT_HOST_DEVICE float absmax_update(float acc, float x) {
  float const ax = x < 0.0f ? -x : x;
  return (ax > acc || !(ax == ax)) ? ax : acc;
}

//! Combines two partial maxima with the same NaN rule as absmax_update.
SPIKEQUANT_HOST_DEVICE float absmax_combine(float a, float b) {
  return (b > a || !(b == b)) ? b : a;
}

//! True when x is neither NaN nor +-Inf (host and device; no <cmath> dependence on device).
SPIKEQUANT_HOST_DEVICE bool is_finite(float x) {
  return (x == x) && (x - x == 0.0f);
}

}  // namespace spikequant::v0
