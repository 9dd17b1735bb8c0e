// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file cpu::linear_float / linear_w8a16 / linear_w8a8 (AQ1, AQ2, AQ3) against naive loops
//! that quantize with the documented formulas, plus per-scheme error budgets vs float.
#include "cpu/reference.hpp"
#include "spikequant/core/linear_mode.hpp"
#include "spikequant/cpu/linear.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <tuple>
#include <vector>

using namespace spikequant;
using namespace spikequant_test;

namespace {

constexpr std::int64_t kM = 9;
constexpr std::int64_t kN = 13;
constexpr std::int64_t kK = 67;

//! Naive W8A8: quantize x per token / per tensor / with a static scale, weights per channel,
//! accumulate in int64, dequantize in double, add bias.
std::vector<double> naive_w8a8(
    Mat<float> const& x,
    Mat<float> const& w,
    ActScheme act,
    float static_scale,
    std::vector<float> const& bias) {
  std::vector<float> wscale(static_cast<std::size_t>(w.rows));
  for (std::int64_t n = 0; n < w.rows; ++n) {
    float amax = 0.0f;
    for (std::int64_t k = 0; k < w.cols; ++k) {
      amax = std::max(amax, std::fabs(w(n, k)));
    }
    wscale[static_cast<std::size_t>(n)] = naive_scale(amax);
  }
  float tensor_amax = 0.0f;
  for (std::int64_t m = 0; m < x.rows; ++m) {
    for (std::int64_t k = 0; k < x.cols; ++k) {
      tensor_amax = std::max(tensor_amax, std::fabs(x(m, k)));
    }
  }
  std::vector<double> y(static_cast<std::size_t>(x.rows * w.rows));
  for (std::int64_t m = 0; m < x.rows; ++m) {
    float row_amax = 0.0f;
    for (std::int64_t k = 0; k < x.cols; ++k) {
      row_amax = std::max(row_amax, std::fabs(x(m, k)));
    }
    float const sa = act == ActScheme::kPerToken    ? naive_scale(row_amax)
                     : act == ActScheme::kPerTensor ? naive_scale(tensor_amax)
                                                    : static_scale;
    for (std::int64_t n = 0; n < w.rows; ++n) {
      float const sw = wscale[static_cast<std::size_t>(n)];
      std::int64_t acc = 0;
      for (std::int64_t k = 0; k < x.cols; ++k) {
        acc += static_cast<std::int64_t>(naive_code(x(m, k), sa)) * naive_code(w(n, k), sw);
      }
      y[static_cast<std::size_t>(m * w.rows + n)] =
          static_cast<double>(acc) * sa * sw +
          (bias.empty() ? 0.0 : static_cast<double>(bias[static_cast<std::size_t>(n)]));
    }
  }
  return y;
}

//! ||y - ref||_F / ||ref||_F.
double rel_fro(Mat<float> const& y, std::vector<double> const& ref) {
  double num = 0.0;
  double den = 0.0;
  for (std::int64_t m = 0; m < y.rows; ++m) {
    for (std::int64_t n = 0; n < y.cols; ++n) {
      double const r = ref[static_cast<std::size_t>(m * y.cols + n)];
      num += (y(m, n) - r) * (y(m, n) - r);
      den += r * r;
    }
  }
  return std::sqrt(num / den);
}

}  // namespace

TEST_CASE("quantize_weight: per-channel codes and scales match the naive formulas") {
  auto const w = random_float(kN, kK, 11, -0.5f, 0.5f, 2);
  auto const q = cpu::quantize_weight(w.cref());
  REQUIRE(q.out_features == kN);
  REQUIRE(q.in_features == kK);
  for (std::int64_t n = 0; n < kN; ++n) {
    float amax = 0.0f;
    for (std::int64_t k = 0; k < kK; ++k) {
      amax = std::max(amax, std::fabs(w(n, k)));
    }
    CHECK(q.scales[static_cast<std::size_t>(n)] == naive_scale(amax));
    for (std::int64_t k = 0; k < kK; ++k) {
      CHECK(
          q.codes[static_cast<std::size_t>(n * kK + k)] == naive_code(w(n, k), naive_scale(amax)));
    }
  }
}

TEST_CASE("linear_float and linear_w8a16 match naive double loops") {
  auto const x = random_float(kM, kK, 21, -1.0f, 1.0f, 1);
  auto const w = random_float(kN, kK, 22, -0.5f, 0.5f);
  auto const bias = random_float(1, kN, 23).buf;
  // Float accumulation over K terms errs by at most ~K * 2^-24 * sum|x w| (~4e-6 relative
  // for K = 67): tolerance 1e-5 * sum_k |x_k w_k| + 1e-6.
  {
    Mat<float> y(kM, kN, 3, 1e30f);
    cpu::linear_float(x.cref(), w.cref(), bias, y.ref());
    std::vector<double> mag;
    auto const ref = naive_linear(x.cref(), w.cref(), &mag);
    for (std::int64_t m = 0; m < kM; ++m) {
      for (std::int64_t n = 0; n < kN; ++n) {
        auto const i = static_cast<std::size_t>(m * kN + n);
        CHECK(
            std::fabs(y(m, n) - (ref[i] + bias[static_cast<std::size_t>(n)])) <=
            1e-5 * mag[i] + 1e-6);
      }
    }
  }
  {
    auto const q = cpu::quantize_weight(w.cref());
    // The dequantized weight, built independently from codes and scales.
    Mat<float> wd(kN, kK);
    for (std::int64_t n = 0; n < kN; ++n) {
      for (std::int64_t k = 0; k < kK; ++k) {
        wd(n, k) = static_cast<float>(q.codes[static_cast<std::size_t>(n * kK + k)]) *
                   q.scales[static_cast<std::size_t>(n)];
      }
    }
    Mat<float> y(kM, kN);
    cpu::linear_w8a16(x.cref(), q, bias, y.ref());
    std::vector<double> mag;
    auto const ref = naive_linear(x.cref(), wd.cref(), &mag);
    for (std::int64_t m = 0; m < kM; ++m) {
      for (std::int64_t n = 0; n < kN; ++n) {
        auto const i = static_cast<std::size_t>(m * kN + n);
        CHECK(
            std::fabs(y(m, n) - (ref[i] + bias[static_cast<std::size_t>(n)])) <=
            1e-5 * mag[i] + 1e-6);
      }
    }
    // Error budget W8A16 vs float: weight rounding only, < 1% relative Frobenius.
    auto const fref = naive_linear(x.cref(), w.cref());
    Mat<float> ynb(kM, kN);
    cpu::linear_w8a16(x.cref(), q, {}, ynb.ref());
    CHECK(rel_fro(ynb, fref) < 0.01);
  }
}

TEST_CASE("linear_w8a8 (AQ1, AQ2, AQ3) matches a naive quantize + int64 + double loop") {
  auto const x = random_float(kM, kK, 31, -1.0f, 1.0f, 2);
  auto const w = random_float(kN, kK, 32, -0.5f, 0.5f);
  auto const bias = random_float(1, kN, 33).buf;
  auto const q = cpu::quantize_weight(w.cref());
  // Codes and int sums are exact; the epilogue's float rounding (~4 * 2^-24 of |y| <= ~10)
  // stays below atol 1e-5; rtol 1e-6 of |ref|.
  constexpr float kStatic = 0.8f / 127.0f;  // clips |x| > 0.8: saturation is exercised too
  for (ActScheme act : {ActScheme::kPerToken, ActScheme::kPerTensor, ActScheme::kStatic}) {
    CAPTURE(to_string(act));
    Mat<float> y(kM, kN, 1, 1e30f);
    cpu::linear_w8a8(x.cref(), q, act, kStatic, bias, y.ref());
    auto const ref = naive_w8a8(x, w, act, kStatic, bias);
    for (std::int64_t m = 0; m < kM; ++m) {
      for (std::int64_t n = 0; n < kN; ++n) {
        double const r = ref[static_cast<std::size_t>(m * kN + n)];
        CHECK(std::fabs(y(m, n) - r) <= 1e-5 + 1e-6 * std::fabs(r));
      }
    }
  }
}

TEST_CASE("linear_w8a8<Policy> equals the run-time form") {
  auto const x = random_float(kM, kK, 41);
  auto const w = random_float(kN, kK, 42);
  auto const q = cpu::quantize_weight(w.cref());
  Mat<float> a(kM, kN);
  Mat<float> b(kM, kN);
  cpu::linear_w8a8<AQ1>(x.cref(), q, a.ref());
  cpu::linear_w8a8(x.cref(), q, ActScheme::kPerToken, 0.0f, {}, b.ref());
  CHECK(a.buf == b.buf);
  cpu::linear_w8a8<AQ2>(x.cref(), q, a.ref());
  cpu::linear_w8a8(x.cref(), q, ActScheme::kPerTensor, 0.0f, {}, b.ref());
  CHECK(a.buf == b.buf);
  cpu::linear_w8a8<AQ3>(x.cref(), q, a.ref(), 0.01f);
  cpu::linear_w8a8(x.cref(), q, ActScheme::kStatic, 0.01f, {}, b.ref());
  CHECK(a.buf == b.buf);
}

TEST_CASE("linear_w8a16 is bit for bit the plain Eigen expression it replaces") {
  // linear_w8a16 hands Eigen's GEMM a float copy of the codes from the workspace instead of
  // letting it cast them into a temporary; the result must not change by a bit. Shapes cover
  // one row (Eigen's GEMV through the cast), one column, tiny (coefficient-based) products,
  // the blocked GEMM, and a strided input.
  auto const bits = [](Mat<float> const& m) {
    std::vector<std::uint32_t> v;
    for (std::int64_t r = 0; r < m.rows; ++r) {
      for (std::int64_t c = 0; c < m.cols; ++c) {
        v.push_back(std::bit_cast<std::uint32_t>(m(r, c)));
      }
    }
    return v;
  };
  cpu::Workspace ws;
  for (auto [m, n, k] : std::array<std::tuple<std::int64_t, std::int64_t, std::int64_t>, 8>{
           {{1, 40, 300},
            {30, 1, 200},
            {3, 4, 5},
            {2, 2, 15},
            {7, 13, 67},
            {64, 172, 64},
            {33, 300, 520},
            {256, 64, 172}}}) {
    CAPTURE(m);
    CAPTURE(n);
    CAPTURE(k);
    auto const x = random_float(m, k, static_cast<unsigned>(m + n + k), -2.0f, 2.0f, 3);
    auto const w = random_float(n, k, static_cast<unsigned>(n * k), -0.5f, 0.5f);
    auto const bias = random_float(1, n, 7).buf;
    auto const q = cpu::quantize_weight(w.cref());
    Mat<float> expected(m, n);
    auto y = cpu::as_eigen(expected.ref());
    y.noalias() = cpu::as_eigen(x.cref()) * cpu::as_eigen(q.view()).cast<float>().transpose();
    y.array().rowwise() *= Eigen::Map<Eigen::RowVectorXf const>(q.scales.data(), n).array();
    y.rowwise() += Eigen::Map<Eigen::RowVectorXf const>(bias.data(), n);
    Mat<float> got(m, n, 2, 1e30f);
    cpu::linear_w8a16(x.cref(), q, bias, got.ref());
    CHECK(bits(got) == bits(expected));
    Mat<float> got_ws(m, n);
    cpu::linear_w8a16(x.cref(), q, bias, got_ws.ref(), ws);
    CHECK(bits(got_ws) == bits(expected));
  }
}

TEST_CASE("linear_w8a8 with a caller's workspace equals the thread workspace form") {
  cpu::Workspace ws;
  for (auto [m, n, k] : std::array<std::tuple<std::int64_t, std::int64_t, std::int64_t>, 3>{
           {{40, 130, 600}, {1, 7, 9}, {kM, kN, kK}}}) {
    CAPTURE(m);
    auto const x = random_float(m, k, 51);
    auto const w = random_float(n, k, 52);
    auto const q = cpu::quantize_weight(w.cref());
    for (ActScheme act : {ActScheme::kPerToken, ActScheme::kPerTensor, ActScheme::kStatic}) {
      CAPTURE(to_string(act));
      Mat<float> a(m, n);
      Mat<float> b(m, n);
      cpu::linear_w8a8(x.cref(), q, act, 0.01f, {}, a.ref(), ws);
      cpu::linear_w8a8(x.cref(), q, act, 0.01f, {}, b.ref());
      CHECK(a.buf == b.buf);
    }
  }
}

TEST_CASE("error budgets vs float: a spike token hurts per-tensor, not per-token or W8A16") {
  // (32, 256) U(-1, 1) activations, (64, 256) U(-0.1, 0.1) weights.
  // Budgets (relative Frobenius error over the non-spike tokens):
  //   W8A16 < 1%, AQ1 < 2%, AQ2 without spike < 2%, AQ2 with a 1000x spike > 50%
  //   (every non-spike activation rounds to 0 then; see quantize_test's planted spike).
  auto x = random_float(32, 256, 51);
  auto const w = random_float(64, 256, 52, -0.1f, 0.1f);
  auto const q = cpu::quantize_weight(w.cref());
  auto const budget = [&](Mat<float> const& xs, LinearMode mode, ActScheme act) {
    Mat<float> y(xs.rows, 64);
    if (mode == LinearMode::kW8A16) {
      cpu::linear_w8a16(xs.cref(), q, {}, y.ref());
    } else {
      cpu::linear_w8a8(xs.cref(), q, act, 0.0f, {}, y.ref());
    }
    auto const ref = naive_linear(xs.cref(), w.cref());
    // Drop row 0 (the spike row when planted).
    Mat<float> ys(xs.rows - 1, 64);
    std::vector<double> rs;
    for (std::int64_t m = 1; m < xs.rows; ++m) {
      for (std::int64_t n = 0; n < 64; ++n) {
        ys(m - 1, n) = y(m, n);
        rs.push_back(ref[static_cast<std::size_t>(m * 64 + n)]);
      }
    }
    return rel_fro(ys, rs);
  };
  double const w8a16 = budget(x, LinearMode::kW8A16, ActScheme::kPerToken);
  double const aq1 = budget(x, LinearMode::kW8A8, ActScheme::kPerToken);
  double const aq2 = budget(x, LinearMode::kW8A8, ActScheme::kPerTensor);
  for (std::int64_t k = 0; k < 256; ++k) {
    x(0, k) *= 1000.0f;
  }
  double const aq1_spike = budget(x, LinearMode::kW8A8, ActScheme::kPerToken);
  double const aq2_spike = budget(x, LinearMode::kW8A8, ActScheme::kPerTensor);
  MESSAGE(
      "w8a16 ",
      w8a16,
      " aq1 ",
      aq1,
      " aq2 ",
      aq2,
      " aq1+spike ",
      aq1_spike,
      " aq2+spike ",
      aq2_spike);
  CHECK(w8a16 < 0.01);
  CHECK(aq1 < 0.02);
  CHECK(aq2 < 0.02);
  CHECK(aq1_spike == aq1);  // other tokens are quantized exactly as before
  CHECK(aq2_spike > 0.5);
}

namespace {
//! A user-defined reducible estimator that clips at half the absmax: a policy naming it must
//! quantize with it on every path, not silently fall back to AbsMax.
struct HalfAbsMax {
  float identity() const { return 0.0f; }
  float update(float acc, float x) const { return std::fmax(acc, std::fabs(x)); }
  float combine(float a, float b) const { return std::fmax(a, b); }
  float finalize(float amax) const { return amax > 0.0f ? 0.5f * amax / 127.0f : 1.0f; }
};
}  // namespace

TEST_CASE("linear_w8a8<Policy> honours the policy's estimator") {
  using HalfPerToken = ActivationQuant<granularity::PerToken, Dynamic, HalfAbsMax>;
  using HalfPerTensor = ActivationQuant<granularity::PerTensor, Dynamic, HalfAbsMax>;
  auto const x = random_float(kM, kK, 51);
  auto const w = random_float(kN, kK, 52);
  auto const q = cpu::quantize_weight(w.cref());
  // Reference: codes and scales from the hand-written estimator, then an int32 dot product
  // per output with the dequant of the naive loop (independent of gemm_dequant).
  auto const reference = [&](bool per_token) {
    std::vector<float> scale(kM);
    float amax_all = 0.0f;
    for (std::int64_t m = 0; m < kM; ++m) {
      float amax = 0.0f;
      for (std::int64_t k = 0; k < kK; ++k) {
        amax = std::fmax(amax, std::fabs(x(m, k)));
      }
      scale[static_cast<std::size_t>(m)] = amax;
      amax_all = std::fmax(amax_all, amax);
    }
    for (float& s : scale) {
      s = 0.5f * (per_token ? s : amax_all) / 127.0f;
    }
    std::vector<double> y(static_cast<std::size_t>(kM * kN));
    for (std::int64_t m = 0; m < kM; ++m) {
      float const s = scale[static_cast<std::size_t>(m)];
      for (std::int64_t n = 0; n < kN; ++n) {
        std::int64_t acc = 0;
        for (std::int64_t k = 0; k < kK; ++k) {
          // The core rounding contract (round half to even of x * (1 / s), saturated).
          std::int64_t const c = quantize_value(x(m, k), inverse_scale(s));
          acc += c * q.codes[static_cast<std::size_t>(n * kK + k)];
        }
        y[static_cast<std::size_t>(m * kN + n)] =
            static_cast<double>(acc) * s * q.scales[static_cast<std::size_t>(n)];
      }
    }
    return y;
  };
  for (bool const per_token : {true, false}) {
    CAPTURE(per_token);
    Mat<float> y(kM, kN, 1, 1e30f);
    if (per_token) {
      cpu::linear_w8a8<HalfPerToken>(x.cref(), q, y.ref());
    } else {
      cpu::linear_w8a8<HalfPerTensor>(x.cref(), q, y.ref());
    }
    auto const ref = reference(per_token);
    // Same codes (clipped at half the range) and scales: only float rounding of the dequant.
    for (std::int64_t m = 0; m < kM; ++m) {
      for (std::int64_t n = 0; n < kN; ++n) {
        double const r = ref[static_cast<std::size_t>(m * kN + n)];
        CHECK(std::fabs(y(m, n) - r) <= 1e-5 + 1e-6 * std::fabs(r));
      }
    }
  }
}
