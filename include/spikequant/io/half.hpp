// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file IEEE binary16 (F16) and bfloat16 (BF16) <-> float conversions on the host, written
//! out bit by bit (subnormals, infinities and NaN included; round to nearest even).
#pragma once

#include <bit>
#include <cstdint>

namespace spikequant::inline v0::io {

//! Exact widening of an IEEE binary16 bit pattern to float.
//! - Subnormals become normal floats, +-0 and +-inf keep their sign, NaN stays NaN (quiet,
//!   payload kept in the top mantissa bits).
constexpr float f16_to_float(std::uint16_t h) noexcept {
  std::uint32_t const sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t mant = h & 0x3FFu;
  std::uint32_t bits = 0;
  if (exp == 0x1Fu) {  // inf / NaN
    bits = sign | 0x7F800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u);
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;  // +-0
    } else {        // subnormal: value = mant * 2^-24; normalise
      int e = -1;
      do {
        mant <<= 1;
        ++e;
      } while ((mant & 0x400u) == 0);
      mant &= 0x3FFu;
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | (mant << 13);
    }
  } else {
    bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

//! Float to IEEE binary16 with round-to-nearest-even; overflow gives +-inf, tiny values
//! round into subnormals or +-0, NaN gives a quiet NaN with the sign kept.
constexpr std::uint16_t float_to_f16(float f) noexcept {
  std::uint32_t const x = std::bit_cast<std::uint32_t>(f);
  std::uint16_t const sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  std::uint32_t const exp = (x >> 23) & 0xFFu;
  std::uint32_t const mant = x & 0x7FFFFFu;
  if (exp == 0xFFu) {
    return static_cast<std::uint16_t>(sign | 0x7C00u | (mant != 0 ? 0x0200u | (mant >> 13) : 0u));
  }
  int const e = static_cast<int>(exp) - 127 + 15;  // biased half exponent
  if (e >= 0x1F) {
    return static_cast<std::uint16_t>(sign | 0x7C00u);
  }
  if (e <= 0) {
    if (e < -10) {  // below half the smallest subnormal: rounds to zero
      return sign;
    }
    // subnormal: shift the full 24-bit significand
    std::uint32_t const m = mant | 0x800000u;
    int const shift = 14 - e;  // 14..24
    std::uint32_t half = m >> shift;
    std::uint32_t const rem = m & ((1u << shift) - 1u);
    std::uint32_t const mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u) != 0)) {
      ++half;  // may carry into the smallest normal, which is the right answer
    }
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t half = (static_cast<std::uint32_t>(e) << 10) | (mant >> 13);
  std::uint32_t const rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u) != 0)) {
    ++half;  // may carry into the exponent, up to inf: correct
  }
  return static_cast<std::uint16_t>(sign | half);
}

//! Exact widening of a bfloat16 bit pattern to float.
constexpr float bf16_to_float(std::uint16_t b) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

//! Float to bfloat16 with round-to-nearest-even; NaN stays a quiet NaN.
constexpr std::uint16_t float_to_bf16(float f) noexcept {
  std::uint32_t const x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) {
    return static_cast<std::uint16_t>((x >> 16) | 0x0040u);
  }
  std::uint32_t const rounding = 0x7FFFu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>((x + rounding) >> 16);
}

}  // namespace spikequant::v0::io
