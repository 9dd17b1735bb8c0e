// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file SiLU and tanh-GELU per-element functions against hand values and double formulas.
#include "spikequant/core/activation.hpp"

#include <cmath>
#include <doctest/doctest.h>
#include <limits>

using namespace spikequant;

namespace {
double silu_ref(double x) {
  return x / (1.0 + std::exp(-x));
}
double gelu_tanh_ref(double x) {
  double const k = std::sqrt(2.0 / 3.14159265358979323846);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}
}  // namespace

TEST_CASE("silu: hand values") {
  CHECK(silu(0.0f) == 0.0f);
  // silu(1) = 1 / (1 + e^-1) = 0.7310585786...
  CHECK(silu(1.0f) == doctest::Approx(0.7310585786).epsilon(1e-6));
  // silu(-1) = -1 / (1 + e) = -0.2689414214...
  CHECK(silu(-1.0f) == doctest::Approx(-0.2689414214).epsilon(1e-6));
  // Large |x|: x itself or -0; exp(100) overflows float to Inf and x / Inf = -0, never NaN.
  CHECK(silu(100.0f) == 100.0f);
  CHECK(silu(-100.0f) == 0.0f);
  CHECK_FALSE(std::isnan(silu(-1000.0f)));
  CHECK(std::isnan(silu(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("gelu_tanh: hand values") {
  CHECK(gelu_tanh(0.0f) == 0.0f);
  // PyTorch gelu(1, approximate="tanh") = 0.8411919906
  CHECK(gelu_tanh(1.0f) == doctest::Approx(0.8411919906).epsilon(1e-6));
  // gelu(-1) = -0.1588080094
  CHECK(gelu_tanh(-1.0f) == doctest::Approx(-0.1588080094).epsilon(1e-6));
  CHECK(gelu_tanh(20.0f) == 20.0f);
  CHECK(gelu_tanh(-20.0f) == 0.0f);
  CHECK(std::isnan(gelu_tanh(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("silu / gelu_tanh / glu_value match double formulas on a sweep") {
  // Tolerance: float evaluation of exp/tanh and three roundings, relative 1e-5 of |ref| plus
  // 1e-6 absolute near zero.
  for (int i = -400; i <= 400; ++i) {
    float const x = static_cast<float>(i) * 0.05f;
    double const xd = x;
    CHECK(std::fabs(silu(x) - silu_ref(xd)) <= 1e-6 + 1e-5 * std::fabs(silu_ref(xd)));
    CHECK(
        std::fabs(gelu_tanh(x) - gelu_tanh_ref(xd)) <= 1e-6 + 1e-5 * std::fabs(gelu_tanh_ref(xd)));
    float const up = 1.5f - static_cast<float>(i) * 0.01f;
    double const ref = silu_ref(xd) * static_cast<double>(up);
    CHECK(std::fabs(glu_value(x, up, activation::Silu{}) - ref) <= 1e-6 + 1e-5 * std::fabs(ref));
    double const gref = gelu_tanh_ref(xd) * static_cast<double>(up);
    CHECK(
        std::fabs(glu_value(x, up, activation::GeluTanh{}) - gref) <=
        1e-6 + 1e-5 * std::fabs(gref));
  }
}
