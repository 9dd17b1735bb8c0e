// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file F16 / BF16 conversions: exhaustive against a formula, hand-picked bit patterns,
//! round-to-nearest-even at every midpoint.
#include "spikequant/io/half.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <limits>

using namespace spikequant;

namespace {
// value = (-1)^s * 2^(e-15) * (1 + m/1024), or 2^-14 * m/1024 for e == 0 (IEEE 754 binary16).
double f16_reference(std::uint16_t h) {
  int const s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double const sign = s ? -1.0 : 1.0;
  if (e == 31) {
    return m ? std::numeric_limits<double>::quiet_NaN()
             : sign * std::numeric_limits<double>::infinity();
  }
  if (e == 0) {
    return sign * std::ldexp(m / 1024.0, -14);
  }
  return sign * std::ldexp(1.0 + m / 1024.0, e - 15);
}
}  // namespace

TEST_CASE("f16_to_float matches the IEEE formula for all 65536 patterns") {
  int mismatches = 0;
  for (std::uint32_t h = 0; h < 65536; ++h) {
    float const got = io::f16_to_float(static_cast<std::uint16_t>(h));
    double const want = f16_reference(static_cast<std::uint16_t>(h));
    if (std::isnan(want)) {
      mismatches += !std::isnan(got);
    } else {
      mismatches += static_cast<double>(got) != want || std::signbit(got) != std::signbit(want);
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("f16 known bit patterns") {
  CHECK(io::f16_to_float(0x3C00) == 1.0f);
  CHECK(io::f16_to_float(0xC000) == -2.0f);
  CHECK(io::f16_to_float(0x7BFF) == 65504.0f);
  CHECK(io::f16_to_float(0x0400) == std::ldexp(1.0f, -14));  // smallest normal
  CHECK(io::f16_to_float(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(io::f16_to_float(0x03FF) == std::ldexp(1023.0f, -24));
  CHECK(std::signbit(io::f16_to_float(0x8000)));
  CHECK(io::f16_to_float(0x7C00) == std::numeric_limits<float>::infinity());
  CHECK(io::f16_to_float(0xFC00) == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(io::f16_to_float(0x7E00)));
  CHECK(std::isnan(io::f16_to_float(0x7C01)));  // signalling NaN payload stays NaN

  CHECK(io::float_to_f16(1.0f) == 0x3C00);
  CHECK(io::float_to_f16(65504.0f) == 0x7BFF);
  CHECK(io::float_to_f16(65520.0f) == 0x7C00);  // midpoint to inf rounds to even (inf)
  CHECK(io::float_to_f16(65519.996f) == 0x7BFF);
  CHECK(io::float_to_f16(1e10f) == 0x7C00);
  CHECK(io::float_to_f16(-1e10f) == 0xFC00);
  CHECK(io::float_to_f16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(io::float_to_f16(std::ldexp(1.0f, -25)) == 0x0000);   // tie -> even (0)
  CHECK(io::float_to_f16(std::ldexp(1.5f, -25)) == 0x0001);   // above the tie
  CHECK(io::float_to_f16(std::ldexp(3.0f, -25)) == 0x0002);   // 1.5 ulp tie -> even (2)
  CHECK(io::float_to_f16(-std::ldexp(1.0f, -26)) == 0x8000);  // -0
  CHECK(io::float_to_f16(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK((io::float_to_f16(std::numeric_limits<float>::quiet_NaN()) & 0x7C00) == 0x7C00);
  CHECK((io::float_to_f16(std::numeric_limits<float>::quiet_NaN()) & 0x03FF) != 0);
  CHECK(io::float_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);  // tie -> even
  CHECK(io::float_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
}

TEST_CASE("float_to_f16 round-trips every f16 and rounds midpoints to even") {
  int bad = 0;
  for (std::uint32_t h = 0; h < 0x7C00; ++h) {  // all finite non-negative patterns
    auto const hh = static_cast<std::uint16_t>(h);
    float const f = io::f16_to_float(hh);
    bad += io::float_to_f16(f) != hh;
    bad += io::float_to_f16(-f) != (hh | 0x8000);
    if (h + 1 < 0x7C00) {
      // exact midpoint to the next pattern (representable in float): ties to even
      double const mid =
          (static_cast<double>(f) +
           static_cast<double>(io::f16_to_float(static_cast<std::uint16_t>(h + 1)))) /
          2;
      auto const even = static_cast<std::uint16_t>((h & 1) ? h + 1 : h);
      bad += io::float_to_f16(static_cast<float>(mid)) != even;
      // just above / below the midpoint
      bad += io::float_to_f16(std::nextafter(static_cast<float>(mid), 1e9f)) != h + 1;
      bad += io::float_to_f16(std::nextafter(static_cast<float>(mid), -1e9f)) != h;
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("bf16 conversions") {
  CHECK(io::bf16_to_float(0x3F80) == 1.0f);
  CHECK(io::bf16_to_float(0xC040) == -3.0f);
  CHECK(io::bf16_to_float(0x0001) == std::bit_cast<float>(0x00010000u));  // subnormal
  CHECK(std::isnan(io::bf16_to_float(0x7FC0)));
  CHECK(io::float_to_bf16(1.0f) == 0x3F80);
  CHECK(io::float_to_bf16(std::bit_cast<float>(0x3F808000u)) == 0x3F80);  // tie -> even
  CHECK(io::float_to_bf16(std::bit_cast<float>(0x3F818000u)) == 0x3F82);  // tie -> even (up)
  CHECK(io::float_to_bf16(std::bit_cast<float>(0x3F808001u)) == 0x3F81);
  CHECK(io::float_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);      // rounds to inf
  CHECK((io::float_to_bf16(std::bit_cast<float>(0x7F800001u)) & 0x7F) != 0);  // NaN stays NaN
  for (std::uint32_t b = 0; b < 65536; ++b) {
    auto const bb = static_cast<std::uint16_t>(b);
    if ((b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0) {
      continue;  // NaN payloads are quieted
    }
    CHECK(io::float_to_bf16(io::bf16_to_float(bb)) == bb);
  }
}
