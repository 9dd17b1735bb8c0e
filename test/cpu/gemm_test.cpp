// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file cpu::gemm_s8s8s32 exactly equal to naive triple loops; the dequant epilogue and
//! gemm_dequant against a naive double-precision loop.
#include "cpu/reference.hpp"
#include "spikequant/cpu/gemm.hpp"

#include <array>
#include <cmath>
#include <doctest/doctest.h>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

using namespace spikequant;
using namespace spikequant_test;

namespace {

//! Random int8 over the full range [-128, 127], with the extremes planted at fixed spots.
Mat<std::int8_t> random_s8(std::int64_t r, std::int64_t c, unsigned seed, std::int64_t pad = 0) {
  Mat<std::int8_t> m(r, c, pad, std::int8_t{99});
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> d(-128, 127);
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t j = 0; j < c; ++j) {
      m(i, j) = static_cast<std::int8_t>(d(gen));
    }
  }
  m(0, 0) = -128;
  m(r - 1, c - 1) = 127;
  m(r / 2, c / 2) = -128;
  return m;
}

void check_gemm_exact(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t pad) {
  CAPTURE(m);
  CAPTURE(n);
  CAPTURE(k);
  CAPTURE(pad);
  auto const a = random_s8(m, k, static_cast<unsigned>(m * 1000 + k), pad);  // (M, K) int8
  auto const b = random_s8(n, k, static_cast<unsigned>(n * 7 + k), pad);     // (N, K) int8
  Mat<std::int32_t> acc(m, n, pad, -1);                                      // (M, N) int32
  cpu::gemm_s8s8s32(a.cref(), b.cref(), acc.ref());
  auto const ref = naive_gemm(a.cref(), b.cref());  // (M, N) int64
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      mismatches += acc(i, j) != ref[static_cast<std::size_t>(i * n + j)] ? 1 : 0;
    }
  }
  CHECK(mismatches == 0);
  // Padding of the output is untouched.
  for (std::int64_t i = 0; i < m && pad > 0; ++i) {
    CHECK(acc.buf[static_cast<std::size_t>(i * acc.ld + n)] == -1);
  }
}

}  // namespace

TEST_CASE("gemm_s8s8s32 equals naive loops exactly (odd sizes, strided views)") {
  for (auto [m, n, k] : std::array<std::tuple<int, int, int>, 7>{
           {{1, 1, 1},
            {3, 5, 7},
            {7, 13, 37},
            {16, 16, 16},
            {17, 31, 65},
            {2, 129, 255},
            {33, 8, 1}}}) {
    check_gemm_exact(m, n, k, 0);
    check_gemm_exact(m, n, k, 3);
  }
}

TEST_CASE("gemm_s8s8s32: extreme products accumulate without wrapping") {
  // (-128) * (-128) = 16384 over K = 4099 -> 67 158 016 (needs int32, overflows int16 and int8).
  constexpr std::int64_t k = 4099;
  Mat<std::int8_t> a(2, k, 0, std::int8_t{-128});
  Mat<std::int8_t> b(3, k, 0, std::int8_t{-128});
  for (std::int64_t j = 0; j < k; ++j) {
    b(1, j) = 127;  // row 1: -128 * 127 = -16256 per term
    b(2, j) = j % 2 == 0 ? std::int8_t{127} : std::int8_t{-128};  // alternating
  }
  Mat<std::int32_t> acc(2, 3);
  cpu::gemm_s8s8s32(a.cref(), b.cref(), acc.ref());
  CHECK(acc(0, 0) == 16384 * 4099);
  CHECK(acc(1, 0) == 16384 * 4099);
  CHECK(acc(0, 1) == -16256 * 4099);
  // 2050 even j: -16256 each; 2049 odd j: +16384 each.
  CHECK(acc(0, 2) == -16256 * 2050 + 16384 * 2049);
}

TEST_CASE("gemm_s8s8s32: blocked path (K and N past one block, M on both sides of widening)") {
  // kGemmBlockK = 512, kGemmBlockN = 128, kGemmPadK = 16, kGemmWidenMinRows = 8: K-blocks
  // with a padded tail, a last partial block of B rows, M just below and above the row
  // count at which the operands are widened to int16, odd M (a last single row).
  using cpu::detail::kGemmBlockK;
  using cpu::detail::kGemmBlockN;
  using cpu::detail::kGemmWidenMinRows;
  std::int64_t const mw = kGemmWidenMinRows;
  for (auto [m, n, k] : std::array<std::tuple<std::int64_t, std::int64_t, std::int64_t>, 7>{
           {{mw - 1, kGemmBlockN + 2, kGemmBlockK + 1},
            {mw, kGemmBlockN + 1, kGemmBlockK},
            {mw + 1, 2 * kGemmBlockN + 3, 2 * kGemmBlockK + 76},
            {2 * mw + 1, 5, kGemmBlockK - 1},
            {mw, 3, 17},
            {3 * mw, kGemmBlockN, 1},
            {mw + 2, 1, 2 * kGemmBlockK + 1}}}) {
    check_gemm_exact(m, n, k, 0);
    check_gemm_exact(m, n, k, 5);
  }
}

TEST_CASE("gemm_s8s8s32: widened path accumulates extreme products across K-blocks") {
  // Same totals as the unblocked case above, with enough rows for the int16 path: 8 K-blocks,
  // each partial sum 512 * 16384 = 2^23, added into int32.
  constexpr std::int64_t k = 4099;
  Mat<std::int8_t> a(cpu::detail::kGemmWidenMinRows, k, 0, std::int8_t{-128});
  Mat<std::int8_t> b(2, k, 0, std::int8_t{-128});
  for (std::int64_t j = 0; j < k; ++j) {
    b(1, j) = 127;
  }
  Mat<std::int32_t> acc(a.rows, 2);
  cpu::gemm_s8s8s32(a.cref(), b.cref(), acc.ref());
  for (std::int64_t i = 0; i < a.rows; ++i) {
    CHECK(acc(i, 0) == 16384 * 4099);
    CHECK(acc(i, 1) == -16256 * 4099);
  }
}

TEST_CASE("gemm_s8s8s32: one workspace reused across shapes gives the same results") {
  // Buffers only grow and keep old contents: a smaller K after a larger one must not read
  // stale values past its own columns (the zero padding is rewritten every block).
  cpu::Workspace ws;
  for (auto [m, n, k] : std::array<std::tuple<std::int64_t, std::int64_t, std::int64_t>, 4>{
           {{40, 140, 700}, {9, 3, 21}, {12, 130, 515}, {8, 2, 3}}}) {
    CAPTURE(m);
    CAPTURE(n);
    CAPTURE(k);
    auto const a = random_s8(m, k, static_cast<unsigned>(k));
    auto const b = random_s8(n, k, static_cast<unsigned>(k + 1));
    Mat<std::int32_t> with_ws(m, n);
    Mat<std::int32_t> with_thread(m, n);
    cpu::gemm_s8s8s32(a.cref(), b.cref(), with_ws.ref(), ws);
    cpu::gemm_s8s8s32(a.cref(), b.cref(), with_thread.ref());
    CHECK(with_ws.buf == with_thread.buf);
    auto const ref = naive_gemm(a.cref(), b.cref());
    std::int64_t mismatches = 0;
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        mismatches += with_ws(i, j) != ref[static_cast<std::size_t>(i * n + j)] ? 1 : 0;
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("dequant_epilogue matches a naive double loop") {
  // Tolerance: the epilogue does float(acc) (exact, |acc| < 2^24 here), two float multiplies
  // and up to two float adds, each within 2^-24 relative of its operands' magnitude. With
  // |acc * sa * sw| <= ~20 and |bias|, |residual| <= 1, the worst case is ~4 * 2^-24 * 22
  // ~ 5e-6: atol = 1e-5, plus rtol = 1e-6 of |ref|.
  constexpr double kAtol = 1e-5;
  constexpr double kRtol = 1e-6;
  constexpr std::int64_t m = 7;
  constexpr std::int64_t n = 11;
  constexpr std::int64_t k = 29;
  auto const a = random_s8(m, k, 1);
  auto const b = random_s8(n, k, 2);
  Mat<std::int32_t> acc(m, n);
  cpu::gemm_s8s8s32(a.cref(), b.cref(), acc.ref());

  std::mt19937 gen(3);
  std::uniform_real_distribution<float> sd(1e-4f, 1e-3f);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> sa(m);  // per-token
  std::vector<float> sw(n);  // per-channel
  std::vector<float> bias(n);
  for (auto& v : sa)
    v = sd(gen);
  for (auto& v : sw)
    v = sd(gen) * 10.0f;
  for (auto& v : bias)
    v = u(gen);
  auto const residual = random_float(m, n, 4);

  for (int variant = 0; variant < 4; ++variant) {
    CAPTURE(variant);
    bool const per_token = variant % 2 == 0;
    bool const extras = variant >= 2;
    std::vector<float> const act = per_token ? sa : std::vector<float>{sa[0]};
    std::vector<float> const wsc = per_token ? sw : std::vector<float>{sw[0]};
    cpu::DequantEpilogue e{act, wsc};
    if (extras) {
      e.bias = bias;
      e.residual = residual.cref();
    }
    Mat<float> out(m, n, 2, 12345.0f);
    cpu::dequant_epilogue(MatrixRef<std::int32_t const>(acc.ref()), e, out.ref());
    Mat<float> out2(m, n);
    cpu::gemm_dequant(a.cref(), b.cref(), e, out2.ref());
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        double ref = static_cast<double>(acc(i, j)) *
                     static_cast<double>(per_token ? sa[static_cast<std::size_t>(i)] : sa[0]) *
                     static_cast<double>(per_token ? sw[static_cast<std::size_t>(j)] : sw[0]);
        if (extras) {
          ref += static_cast<double>(bias[static_cast<std::size_t>(j)]) + residual(i, j);
        }
        CHECK(std::fabs(out(i, j) - ref) <= kAtol + kRtol * std::fabs(ref));
        CHECK(out2(i, j) == out(i, j));  // same arithmetic, same order
      }
    }
  }
}
