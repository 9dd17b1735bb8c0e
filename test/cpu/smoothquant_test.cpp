// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file SmoothQuant factors (hand values, zero-column guards) and folding: the float output of
//! every sibling is unchanged while the activation maximum drops.
#include "cpu/reference.hpp"
#include "spikequant/cpu/linear.hpp"
#include "spikequant/cpu/rmsnorm.hpp"
#include "spikequant/cpu/smoothquant.hpp"

#include <array>
#include <cmath>
#include <doctest/doctest.h>
#include <vector>

using namespace spikequant;
using namespace spikequant_test;

TEST_CASE("smoothquant_factors: hand values and zero-column guards") {
  std::vector<float> const act = {4.0f, 0.0f, 9.0f, 1.0f, 16.0f};
  std::vector<float> const wgt = {1.0f, 5.0f, 4.0f, 0.0f, 0.25f};
  // alpha 0.5: sqrt(4)/sqrt(1) = 2; act 0 -> 1; sqrt(9)/sqrt(4) = 1.5; weight 0 -> 1;
  // sqrt(16)/sqrt(0.25) = 8.
  CHECK(
      cpu::smoothquant_factors(act, wgt, 0.5f) == std::vector<float>{2.0f, 1.0f, 1.5f, 1.0f, 8.0f});
  // alpha 1: s = max|X|.
  CHECK(
      cpu::smoothquant_factors(act, wgt, 1.0f) ==
      std::vector<float>{4.0f, 1.0f, 9.0f, 1.0f, 16.0f});
  // alpha 0: s = 1 / max|W|.
  CHECK(
      cpu::smoothquant_factors(act, wgt, 0.0f) ==
      std::vector<float>{1.0f, 1.0f, 0.25f, 1.0f, 4.0f});
  // Extreme ratios are clamped, never 0 or Inf.
  std::vector<float> const tiny = {1e-30f};
  std::vector<float> const huge = {1e30f};
  CHECK(cpu::smoothquant_factors(tiny, huge, 0.5f)[0] == cpu::kSmoothFactorMin);
  CHECK(cpu::smoothquant_factors(huge, tiny, 0.5f)[0] == cpu::kSmoothFactorMax);
}

TEST_CASE("column_absmax / weight_column_absmax") {
  Mat<float> a(2, 3);
  a.buf = {1.0f, -5.0f, 0.0f, -2.0f, 3.0f, 0.0f};
  CHECK(cpu::column_absmax(a.cref()) == std::vector<float>{2.0f, 5.0f, 0.0f});
  Mat<float> b(1, 3);
  b.buf = {0.5f, -7.0f, 0.25f};
  std::array<MatrixRef<float const>, 2> const ws = {a.cref(), b.cref()};
  CHECK(cpu::weight_column_absmax(ws) == std::vector<float>{2.0f, 7.0f, 0.25f});
}

TEST_CASE("fold_smoothing: siblings' float outputs unchanged, activation max reduced") {
  // h (32, 64): hidden states with outlier channels 3 (x50) and 40 (x20) as in LLMs.
  constexpr std::int64_t kT = 32;
  constexpr std::int64_t kD = 64;
  auto h = random_float(kT, kD, 81);
  for (std::int64_t t = 0; t < kT; ++t) {
    h(t, 3) *= 50.0f;
    h(t, 40) *= 20.0f;
  }
  auto norm_w = random_float(1, kD, 82, 0.5f, 1.5f).buf;  // D
  // q, k, v read the same normed input: (48, 64), (16, 64), (16, 64).
  auto wq = random_float(48, kD, 83, -0.2f, 0.2f);
  auto wk = random_float(16, kD, 84, -0.2f, 0.2f);
  auto wv = random_float(16, kD, 85, -0.2f, 0.2f, 2);
  std::array<Mat<float>*, 3> const consumers = {&wq, &wk, &wv};

  Mat<float> x(kT, kD);  // (T, D) normed activations
  cpu::rmsnorm(h.cref(), norm_w, 1e-5f, x.ref());
  std::array<std::vector<double>, 3> before;
  for (std::size_t i = 0; i < 3; ++i) {
    before[i] = naive_linear(x.cref(), consumers[i]->cref());
  }
  auto const act_amax = cpu::column_absmax(x.cref());
  std::array<MatrixRef<float const>, 3> const wviews = {wq.cref(), wk.cref(), wv.cref()};
  auto const s = cpu::smoothquant_factors(act_amax, cpu::weight_column_absmax(wviews), 0.5f);
  Mat<float> const wq_orig = wq;  // unsmoothed copy for the W8A8 comparison below
  std::array<MatrixRef<float>, 3> const mviews = {wq.ref(), wk.ref(), wv.ref()};
  cpu::fold_smoothing(norm_w, mviews, s);

  Mat<float> xs(kT, kD);
  cpu::rmsnorm(h.cref(), norm_w, 1e-5f, xs.ref());
  // Tolerance: folding adds two float roundings per product (w / s and W * s, 2^-24 each)
  // and the double references then agree to ~3 * 2^-24 * sum|x w|: check 1e-6 * sum|x w|.
  for (std::size_t i = 0; i < 3; ++i) {
    std::vector<double> mag;
    auto const after = naive_linear(xs.cref(), consumers[i]->cref(), &mag);
    for (std::size_t j = 0; j < after.size(); ++j) {
      CHECK(std::fabs(after[j] - before[i][j]) <= 1e-6 * mag[j] + 1e-9);
    }
  }
  float amax_before = 0.0f;
  float amax_after = 0.0f;
  for (std::int64_t t = 0; t < kT; ++t) {
    for (std::int64_t d = 0; d < kD; ++d) {
      amax_before = std::max(amax_before, std::fabs(x(t, d)));
      amax_after = std::max(amax_after, std::fabs(xs(t, d)));
    }
  }
  MESSAGE("activation absmax before ", amax_before, " after ", amax_after);
  CHECK(amax_after < 0.5f * amax_before);

  // And the point of it: per-tensor W8A8 error on q drops after smoothing.
  auto const err = [&](Mat<float> const& xin, Mat<float> const& w) {
    auto const q = cpu::quantize_weight(w.cref());
    Mat<float> y(kT, w.rows);
    cpu::linear_w8a8(xin.cref(), q, ActScheme::kPerTensor, 0.0f, {}, y.ref());
    auto const ref = naive_linear(xin.cref(), w.cref());
    double num = 0.0;
    double den = 0.0;
    for (std::int64_t t = 0; t < kT; ++t) {
      for (std::int64_t n = 0; n < w.rows; ++n) {
        double const r = ref[static_cast<std::size_t>(t * w.rows + n)];
        num += (y(t, n) - r) * (y(t, n) - r);
        den += r * r;
      }
    }
    return std::sqrt(num / den);
  };
  double const e_plain = err(x, wq_orig);
  double const e_smooth = err(xs, wq);
  MESSAGE("per-tensor W8A8 relative error: plain ", e_plain, " smoothed ", e_smooth);
  CHECK(e_smooth < e_plain);
}

TEST_CASE("fold_smoothing: leaving out a sibling changes its output (why all must be passed)") {
  auto h = random_float(4, 8, 91);
  std::vector<float> norm_w(8, 1.0f);
  auto wq = random_float(3, 8, 92);
  auto wk = random_float(3, 8, 93);
  Mat<float> x(4, 8);
  cpu::rmsnorm(h.cref(), norm_w, 1e-5f, x.ref());
  auto const k_before = naive_linear(x.cref(), wk.cref());
  std::vector<float> const s = {2.0f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f};
  std::array<MatrixRef<float>, 1> const only_q = {wq.ref()};
  cpu::fold_smoothing(norm_w, only_q, s);
  Mat<float> xs(4, 8);
  cpu::rmsnorm(h.cref(), norm_w, 1e-5f, xs.ref());
  auto const k_after = naive_linear(xs.cref(), wk.cref());
  for (std::size_t j = 0; j < k_after.size(); ++j) {
    CHECK(k_after[j] == doctest::Approx(k_before[j] / 2.0).epsilon(1e-5));
  }
}
