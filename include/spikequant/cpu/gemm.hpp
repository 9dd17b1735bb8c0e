// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU reference INT8 GEMM: int32 accumulation, then the dequantization epilogue
//! (activation scale per token or per tensor x weight scale per output channel, bias, residual).
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/cpu/eigen_map.hpp"

#include <cstdint>
#include <span>

namespace spikequant::inline v0::cpu {

//! acc = a * b^T with int32 accumulation: a (M, K) int8 activations, b (N, K) int8 weights.
//! - Exact: every product and sum is an integer; K up to kMaxInt8AccumulationK cannot overflow
//! int32
//!   (|a*b| <= 128 * 128 = 2^14, so 2^17 terms stay below 2^31).
//! - Operands are widened to int32 before multiplying; Eigen would otherwise multiply in int8
//!   and wrap silently.
//! @param[out] acc (M, N) row-major int32
inline void gemm_s8s8s32(
    MatrixRef<std::int8_t const> a, MatrixRef<std::int8_t const> b, MatrixRef<std::int32_t> acc) {
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
  as_eigen(acc).noalias() = as_eigen(a).template cast<std::int32_t>() *
                            as_eigen(b).template cast<std::int32_t>().transpose();
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
inline void gemm_dequant(
    MatrixRef<std::int8_t const> a,
    MatrixRef<std::int8_t const> b,
    DequantEpilogue const& e,
    MatrixRef<float> out) {
  RowMajorMatrix<std::int32_t> acc(a.rows, b.rows);
  gemm_s8s8s32(a, b, {acc.data(), a.rows, b.rows, b.rows});
  dequant_epilogue({acc.data(), a.rows, b.rows, b.rows}, e, out);
}

}  // namespace spikequant::v0::cpu
