// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file INT8 rounding and saturation against hand-computed codes.
#include "spikequant/core/numeric.hpp"

#include <doctest/doctest.h>
#include <limits>

using namespace spikequant;

TEST_CASE("quantize_value rounds half to even") {
  // scale 1 (inverse 1): the code is the rounded value itself.
  CHECK(quantize_value(0.5f, 1.0f) == 0);
  CHECK(quantize_value(1.5f, 1.0f) == 2);
  CHECK(quantize_value(2.5f, 1.0f) == 2);
  CHECK(quantize_value(3.5f, 1.0f) == 4);
  CHECK(quantize_value(-0.5f, 1.0f) == 0);
  CHECK(quantize_value(-1.5f, 1.0f) == -2);
  CHECK(quantize_value(-2.5f, 1.0f) == -2);
  CHECK(quantize_value(2.4999f, 1.0f) == 2);
  CHECK(quantize_value(2.5001f, 1.0f) == 3);
  // scale 0.5 (inverse 2): 1.25 -> 2.5 -> 2 ; 1.75 -> 3.5 -> 4
  CHECK(quantize_value(1.25f, 2.0f) == 2);
  CHECK(quantize_value(1.75f, 2.0f) == 4);
}

TEST_CASE("quantize_value saturates to [-127, 127], never wraps") {
  CHECK(quantize_value(127.4f, 1.0f) == 127);
  CHECK(quantize_value(127.5f, 1.0f) == 127);
  CHECK(quantize_value(300.0f, 1.0f) == 127);
  CHECK(quantize_value(-128.0f, 1.0f) == -127);
  CHECK(quantize_value(-1e30f, 1.0f) == -127);
}

TEST_CASE("non-finite values have defined codes") {
  float const inf = std::numeric_limits<float>::infinity();
  float const nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(quantize_value(nan, 1.0f) == 0);
  CHECK(quantize_value(inf, 1.0f) == 127);
  CHECK(quantize_value(-inf, 1.0f) == -127);
  CHECK_FALSE(is_finite(nan));
  CHECK_FALSE(is_finite(inf));
  CHECK(is_finite(3.0f));
}

TEST_CASE("scale_from_absmax guards all-zero groups and flags non-finite ones") {
  CHECK(scale_from_absmax(0.0f) == 1.0f);
  CHECK(scale_from_absmax(127.0f) == 1.0f);
  CHECK(scale_from_absmax(254.0f) == 2.0f);
  CHECK_FALSE(is_finite(scale_from_absmax(std::numeric_limits<float>::quiet_NaN())));
  CHECK_FALSE(is_finite(scale_from_absmax(std::numeric_limits<float>::infinity())));
}

TEST_CASE("absmax propagates NaN") {
  float const nan = std::numeric_limits<float>::quiet_NaN();
  float acc = 0.0f;
  acc = absmax_update(acc, -3.0f);
  CHECK(acc == 3.0f);
  acc = absmax_update(acc, nan);
  CHECK_FALSE(acc == acc);
  acc = absmax_update(acc, 100.0f);
  CHECK_FALSE(acc == acc);
  CHECK_FALSE(absmax_combine(2.0f, nan) == absmax_combine(2.0f, nan));
}
