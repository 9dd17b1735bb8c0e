// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU reference INT8 GEMM: int32 accumulation, then the dequantization epilogue
//! (activation scale per token or per tensor x weight scale per output channel, bias, residual).
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/cpu/workspace.hpp"

#include <algorithm>
#include <cstdint>
#include <span>

namespace spikequant::inline v0::cpu {

namespace detail {

//! Blocking of gemm_s8s8s32, in elements. A 2 x 4 tile reads 6 rows of one K-block
//! (6 KiB of int16 at kGemmBlockK = 512: L1); a block of kGemmBlockN rows of B is 128 KiB
//! (L2) and is reused by every row of A.
inline constexpr std::int64_t kGemmBlockK = 512;
inline constexpr std::int64_t kGemmBlockN = 128;
//! K-blocks are zero-padded to a multiple of this, so the vectorized k loop has no tail
//! (zeros add nothing to a dot product).
inline constexpr std::int64_t kGemmPadK = 16;
//! Below this many rows of A, widening B to int16 costs more than it saves (decode, M = 1):
//! the tiles then read the int8 operands directly.
inline constexpr std::int64_t kGemmWidenMinRows = 8;

//! acc[i, j] += sum over k < kc of a[i, k] * b[j, k] for an R x C tile.
//! T is int8_t (operands read in place) or int16_t (widened copies). Widening each product
//! to int32 before adding keeps it exact. With int16 operands the k loop vectorizes to
//! pmaddwd (SSE2: 8 int16 products summed pairwise into int32 lanes) under GCC -O3 and
//! Clang -O2; GCC -O2 leaves it scalar (still exact). The R x C accumulators stay in
//! registers, so each loaded element of A is used C times and each of B R times.
template <int R, int C, class T>
void gemm_tile(
    T const* __restrict a,
    std::int64_t lda,
    T const* __restrict b,
    std::int64_t ldb,
    std::int64_t kc,
    std::int32_t* __restrict acc,
    std::int64_t ldc) {
  std::int32_t s[R][C] = {};
  for (std::int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < R; ++i) {
      for (int j = 0; j < C; ++j) {
        s[i][j] += std::int32_t{a[i * lda + k]} * std::int32_t{b[j * ldb + k]};
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < C; ++j) {
      acc[i * ldc + j] += s[i][j];
    }
  }
}

//! acc (R, n) += a (R, kc) * b (n, kc)^T: R x 4 tiles, then R x 1 for the last columns.
template <int R, class T>
void gemm_rows(
    T const* a,
    std::int64_t lda,
    T const* b,
    std::int64_t ldb,
    std::int64_t n,
    std::int64_t kc,
    std::int32_t* acc,
    std::int64_t ldc) {
  std::int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    gemm_tile<R, 4>(a, lda, b + j * ldb, ldb, kc, acc + j, ldc);
  }
  for (; j < n; ++j) {
    gemm_tile<R, 1>(a, lda, b + j * ldb, ldb, kc, acc + j, ldc);
  }
}

//! acc (m, n) += a (m, kc) * b (n, kc)^T: rows of A two at a time, then the last one.
template <class T>
void gemm_block(
    T const* a,
    std::int64_t lda,
    std::int64_t m,
    T const* b,
    std::int64_t ldb,
    std::int64_t n,
    std::int64_t kc,
    std::int32_t* acc,
    std::int64_t ldc) {
  std::int64_t i = 0;
  for (; i + 2 <= m; i += 2) {
    gemm_rows<2>(a + i * lda, lda, b, ldb, n, kc, acc + i * ldc, ldc);
  }
  if (i < m) {
    gemm_rows<1>(a + i * lda, lda, b, ldb, n, kc, acc + i * ldc, ldc);
  }
}

//! dst[i, k] = src[row0 + i, k0 + k] as int16 for i < rows, k < kc; zero for kc <= k < ld.
inline void widen_rows(
    MatrixRef<std::int8_t const> src,
    std::int64_t row0,
    std::int64_t rows,
    std::int64_t k0,
    std::int64_t kc,
    std::int64_t ld,
    std::int16_t* dst) {
  for (std::int64_t i = 0; i < rows; ++i) {
    std::int8_t const* s = src.row(row0 + i) + k0;
    std::int16_t* d = dst + i * ld;
    for (std::int64_t k = 0; k < kc; ++k) {
      d[k] = s[k];
    }
    for (std::int64_t k = kc; k < ld; ++k) {
      d[k] = 0;
    }
  }
}

}  // namespace detail

//! acc = a * b^T with int32 accumulation: a (M, K) int8 activations, b (N, K) int8 weights.
//! - Exact: every product and sum is an integer; K up to kMaxInt8AccumulationK cannot
//!   overflow int32 (|a*b| <= 128 * 128 = 2^14, so 2^17 terms stay below 2^31). Integer
//!   addition is associative, so the blocking below cannot change a single bit of acc: the
//!   result is the naive triple loop's, acc[m, n] = sum_k int32(a[m, k]) * int32(b[n, k]).
//! - How (the naive loop, made cache- and SIMD-friendly): K is cut into blocks of
//!   kGemmBlockK; each block of A and of kGemmBlockN rows of B is widened to int16 in `ws`
//!   (zero-padded to kGemmPadK), then multiplied in 2 x 4 register tiles (detail::gemm_tile).
//!   With fewer than kGemmWidenMinRows rows of A the tiles read the int8 operands directly.
//! @param[out] acc (M, N) row-major int32
//! @param      ws  scratch (Workspace::a16, b16); thread_workspace() in the overload without
inline void gemm_s8s8s32(
    MatrixRef<std::int8_t const> a,
    MatrixRef<std::int8_t const> b,
    MatrixRef<std::int32_t> acc,
    Workspace& ws) {
  require(
      a.cols == b.cols,
      ErrorKind::kShape,
      "gemm_s8s8s32: activation is (",
      a.rows,
      ", ",
      a.cols,
      ") but weight is (",
      b.rows,
      ", ",
      b.cols,
      "): K differs");
  require(
      acc.rows == a.rows && acc.cols == b.rows,
      ErrorKind::kShape,
      "gemm_s8s8s32: output is (",
      acc.rows,
      ", ",
      acc.cols,
      "), expected (",
      a.rows,
      ", ",
      b.rows,
      ")");
  require(
      a.cols <= kMaxInt8AccumulationK,
      ErrorKind::kUnsupported,
      "gemm_s8s8s32: K = ",
      a.cols,
      " could overflow int32 accumulation (max ",
      kMaxInt8AccumulationK,
      ")");
  std::int64_t const m = a.rows;
  std::int64_t const n = b.rows;
  std::int64_t const k = a.cols;
  for (std::int64_t i = 0; i < m; ++i) {
    std::fill_n(acc.row(i), n, 0);
  }
  if (m < detail::kGemmWidenMinRows) {
    detail::gemm_block(a.data, a.ld, m, b.data, b.ld, n, k, acc.data, acc.ld);
    return;
  }
  using detail::kGemmBlockK;
  using detail::kGemmBlockN;
  using detail::kGemmPadK;
  std::int64_t const kp_max = (std::min(k, kGemmBlockK) + kGemmPadK - 1) / kGemmPadK * kGemmPadK;
  std::int16_t* const a16 = Workspace::take(ws.a16, m * kp_max).data();
  std::int16_t* const b16 = Workspace::take(ws.b16, std::min(n, kGemmBlockN) * kp_max).data();
  for (std::int64_t k0 = 0; k0 < k; k0 += kGemmBlockK) {
    std::int64_t const kc = std::min(kGemmBlockK, k - k0);
    std::int64_t const kp = (kc + kGemmPadK - 1) / kGemmPadK * kGemmPadK;
    detail::widen_rows(a, 0, m, k0, kc, kp, a16);
    for (std::int64_t n0 = 0; n0 < n; n0 += kGemmBlockN) {
      std::int64_t const nc = std::min(kGemmBlockN, n - n0);
      detail::widen_rows(b, n0, nc, k0, kc, kp, b16);
      detail::gemm_block(a16, kp, m, b16, kp, nc, kp, acc.data + n0, acc.ld);
    }
  }
}

//! gemm_s8s8s32 with the calling thread's workspace.
inline void gemm_s8s8s32(
    MatrixRef<std::int8_t const> a, MatrixRef<std::int8_t const> b, MatrixRef<std::int32_t> acc) {
  gemm_s8s8s32(a, b, acc, thread_workspace());
}

//! Scales and addends applied to the int32 accumulator: out[m, n] =
//! acc[m, n] * act_scale[m or 0] * weight_scale[n or 0] + bias[n] + residual[m, n].
struct DequantEpilogue {
  std::span<float const> act_scales;     //!< M (per token) or 1 (per tensor)
  std::span<float const> weight_scales;  //!< N (per channel) or 1 (per tensor)
  std::span<float const> bias = {};      //!< N, or empty for none
  MatrixRef<float const> residual = {};  //!< (M, N), or data == nullptr for none
};

namespace detail {
inline void
check_epilogue(DequantEpilogue const& e, std::int64_t m, std::int64_t n, char const* fn) {
  auto const na = static_cast<std::int64_t>(e.act_scales.size());
  auto const nw = static_cast<std::int64_t>(e.weight_scales.size());
  require(
      na == 1 || na == m,
      ErrorKind::kShape,
      fn,
      ": act_scales has ",
      na,
      " elements; need 1 (per tensor) or M = ",
      m,
      " (per token)");
  require(
      nw == 1 || nw == n,
      ErrorKind::kShape,
      fn,
      ": weight_scales has ",
      nw,
      " elements; need 1 (per tensor) or N = ",
      n,
      " (per channel)");
  require(
      e.bias.empty() || static_cast<std::int64_t>(e.bias.size()) == n,
      ErrorKind::kShape,
      fn,
      ": bias has ",
      e.bias.size(),
      " elements; need N = ",
      n);
  require(
      e.residual.data == nullptr || (e.residual.rows == m && e.residual.cols == n),
      ErrorKind::kShape,
      fn,
      ": residual is (",
      e.residual.rows,
      ", ",
      e.residual.cols,
      "), expected (",
      m,
      ", ",
      n,
      ")");
}
}  // namespace detail

//! Applies the epilogue to an int32 accumulator. The float arithmetic order is fixed:
//! (float(acc) * act_scale) * weight_scale, then + bias, then + residual; the CUDA epilogue
//! uses the same order so results agree to rounding.
inline void dequant_epilogue(
    MatrixRef<std::int32_t const> acc, DequantEpilogue const& e, MatrixRef<float> out) {
  detail::check_epilogue(e, acc.rows, acc.cols, "dequant_epilogue");
  require_same_shape(acc, MatrixRef<float const>(out), "accumulator", "output");
  bool const per_token = e.act_scales.size() > 1;
  bool const per_channel = e.weight_scales.size() > 1;
  for (std::int64_t m = 0; m < acc.rows; ++m) {
    float const sa = e.act_scales[per_token ? static_cast<std::size_t>(m) : 0];
    for (std::int64_t n = 0; n < acc.cols; ++n) {
      float v = static_cast<float>(acc(m, n)) * sa *
                e.weight_scales[per_channel ? static_cast<std::size_t>(n) : 0];
      if (!e.bias.empty()) {
        v += e.bias[static_cast<std::size_t>(n)];
      }
      if (e.residual.data != nullptr) {
        v += e.residual(m, n);
      }
      out(m, n) = v;
    }
  }
}

//! INT8 GEMM followed by the dequant epilogue; the CPU twin of the fused CUDA kernel.
//! @param[in]  a   (M, K) int8 activation codes
//! @param[in]  b   (N, K) int8 weight codes
//! @param[out] out (M, N) float
//! @param      ws  scratch (Workspace::acc and gemm_s8s8s32's); thread_workspace() in the
//!                 overload without
inline void gemm_dequant(
    MatrixRef<std::int8_t const> a,
    MatrixRef<std::int8_t const> b,
    DequantEpilogue const& e,
    MatrixRef<float> out,
    Workspace& ws) {
  MatrixRef<std::int32_t> const acc{
      Workspace::take(ws.acc, a.rows * b.rows).data(), a.rows, b.rows, b.rows};
  gemm_s8s8s32(a, b, acc, ws);
  dequant_epilogue(acc, e, out);
}

//! gemm_dequant with the calling thread's workspace.
inline void gemm_dequant(
    MatrixRef<std::int8_t const> a,
    MatrixRef<std::int8_t const> b,
    DequantEpilogue const& e,
    MatrixRef<float> out) {
  gemm_dequant(a, b, e, out, thread_workspace());
}

}  // namespace spikequant::v0::cpu
