// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file cpu::swiglu / geglu / glu and cpu::rmsnorm against naive double formulas.
#include "cpu/reference.hpp"
#include "spikequant/cpu/glu.hpp"
#include "spikequant/cpu/rmsnorm.hpp"

#include <cmath>
#include <doctest/doctest.h>
#include <limits>
#include <vector>

using namespace spikequant;
using namespace spikequant_test;

namespace {
double silu_ref(double x) {
  return x / (1.0 + std::exp(-x));
}
double gelu_tanh_ref(double x) {
  double const k = std::sqrt(2.0 / 3.14159265358979323846);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}
}  // namespace

TEST_CASE("swiglu / geglu match naive formulas, run-time dispatch agrees") {
  // gate spans [-12, 12] (both saturation regions), up [-3, 3]; padded views.
  auto const gate = random_float(7, 45, 61, -12.0f, 12.0f, 3);
  auto const up = random_float(7, 45, 62, -3.0f, 3.0f, 1);
  // Tolerance: float exp/tanh (a few ulp) and two roundings: 1e-5 relative + 1e-6 absolute.
  for (GluKind kind : {GluKind::kSwiGlu, GluKind::kGeGlu}) {
    CAPTURE(to_string(kind));
    Mat<float> out(7, 45, 2, 1e30f);
    if (kind == GluKind::kSwiGlu) {
      cpu::swiglu(gate.cref(), up.cref(), out.ref());
    } else {
      cpu::geglu(gate.cref(), up.cref(), out.ref());
    }
    Mat<float> out2(7, 45);
    cpu::glu(kind, gate.cref(), up.cref(), out2.ref());
    for (std::int64_t r = 0; r < 7; ++r) {
      for (std::int64_t c = 0; c < 45; ++c) {
        double const g = gate(r, c);
        double const ref = (kind == GluKind::kSwiGlu ? silu_ref(g) : gelu_tanh_ref(g)) *
                           static_cast<double>(up(r, c));
        CHECK(std::fabs(out(r, c) - ref) <= 1e-6 + 1e-5 * std::fabs(ref));
        CHECK(out2(r, c) == out(r, c));
      }
    }
    // Padding untouched.
    CHECK(out.buf[45] == 1e30f);
  }
  CHECK(to_string(GluKind::kSwiGlu) == "swiglu");
  CHECK(to_string(GluKind::kGeGlu) == "geglu");
}

TEST_CASE("glu: in place over up, spikes pass through, NaN propagates") {
  Mat<float> gate(1, 4);
  Mat<float> up(1, 4);
  gate.buf = {0.0f, 100.0f, -100.0f, std::numeric_limits<float>::quiet_NaN()};
  up.buf = {5.0f, 30.0f, 2.0f, 1.0f};
  cpu::swiglu(gate.cref(), up.cref(), up.ref());  // out aliases up
  CHECK(up.buf[0] == 0.0f);                       // silu(0) = 0
  CHECK(up.buf[1] == 3000.0f);  // silu(100) = 100: a large gate times up -> an activation spike
  CHECK(up.buf[2] == 0.0f);     // silu(-100) = -0
  CHECK(std::isnan(up.buf[3]));
}

TEST_CASE("rmsnorm matches x / sqrt(mean(x^2) + eps) * w in double") {
  // rows of very different magnitude, one all-zero row, padded ld, eps = 1e-5.
  constexpr float kEps = 1e-5f;
  auto x = random_float(6, 33, 71, -2.0f, 2.0f, 2);
  for (std::int64_t c = 0; c < 33; ++c) {
    x(1, c) *= 1000.0f;
    x(2, c) *= 1e-3f;
    x(4, c) = 0.0f;
  }
  auto const w = random_float(1, 33, 72, 0.5f, 1.5f).buf;
  Mat<float> out(6, 33, 1, 1e30f);
  cpu::rmsnorm(x.cref(), w, kEps, out.ref());
  // Reference in double; the kernel rounds inv_rms to float, then two float multiplies:
  // relative error <= 3 * 2^-24 ~ 2e-7, so rtol 1e-6 + atol 1e-7.
  for (std::int64_t r = 0; r < 6; ++r) {
    double ss = 0.0;
    for (std::int64_t c = 0; c < 33; ++c) {
      ss += static_cast<double>(x(r, c)) * x(r, c);
    }
    double const inv = 1.0 / std::sqrt(ss / 33.0 + static_cast<double>(kEps));
    for (std::int64_t c = 0; c < 33; ++c) {
      double const ref = x(r, c) * inv * w[static_cast<std::size_t>(c)];
      CHECK(std::fabs(out(r, c) - ref) <= 1e-7 + 1e-6 * std::fabs(ref));
    }
  }
  // The all-zero row stays zero (eps > 0); padding untouched.
  for (std::int64_t c = 0; c < 33; ++c) {
    CHECK(out(4, c) == 0.0f);
  }
  CHECK(out.buf[33] == 1e30f);
  // The rows' RMS after norm (with w = 1) is ~1: row 1's 1000x is normalised away.
  std::vector<float> const ones(33, 1.0f);
  Mat<float> unit(6, 33);
  cpu::rmsnorm(x.cref(), ones, 0.0f, unit.ref());
  double ss = 0.0;
  for (std::int64_t c = 0; c < 33; ++c) {
    ss += static_cast<double>(unit(1, c)) * unit(1, c);
  }
  CHECK(std::sqrt(ss / 33.0) == doctest::Approx(1.0).epsilon(1e-6));
  // In place gives the same result.
  auto y = x;
  cpu::rmsnorm(y.cref(), w, kEps, y.ref());
  for (std::int64_t r = 0; r < 6; ++r) {
    for (std::int64_t c = 0; c < 33; ++c) {
      CHECK(y(r, c) == out(r, c));
    }
  }
}
