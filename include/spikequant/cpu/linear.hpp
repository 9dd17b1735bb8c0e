// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU reference linear layer y = x W^T (+ bias) in three modes: float, W8A16
//! (INT8 weights dequantized, float activations: QFeM's excluded modules) and W8A8.
#pragma once

#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/granularity.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/policy.hpp"
#include "spikequant/cpu/eigen_map.hpp"
#include "spikequant/cpu/gemm.hpp"
#include "spikequant/cpu/quantize.hpp"
#include "spikequant/cpu/workspace.hpp"

#include <concepts>
#include <cstdint>
#include <span>
#include <vector>

namespace spikequant::inline v0::cpu {

//! Symmetric per-output-channel INT8 weight: codes (out, in) and one scale per row.
struct QuantizedWeight {
  std::int64_t out_features = 0;
  std::int64_t in_features = 0;
  std::vector<std::int8_t> codes;  // (out_features, in_features) row-major
  std::vector<float> scales;       // out_features

  [[nodiscard]] MatrixRef<std::int8_t const> view() const {
    return {codes.data(), out_features, in_features, in_features};
  }
};

//! Quantizes a float weight (out, in) per output channel through the weight policy W (absmax
//! scales by default: PerChannelWeightInt8).
template <WeightPolicy W = PerChannelWeightInt8>
QuantizedWeight quantize_weight(MatrixRef<float const> w) {
  static_assert(
      std::same_as<typename W::Granularity, granularity::PerChannel>,
      "quantize_weight: QuantizedWeight holds one scale per output channel, so W must be "
      "per-channel");
  auto q = quantize_dynamic<granularity::PerChannel>(w, typename W::Estimator{});
  return {w.rows, w.cols, std::move(q.codes), std::move(q.scales)};
}

namespace detail {
inline void check_linear(
    MatrixRef<float const> const& x,
    std::int64_t out_features,
    std::int64_t in_features,
    std::span<float const> bias,
    MatrixRef<float> const& y,
    char const* fn) {
  require(
      x.cols == in_features,
      ErrorKind::kShape,
      fn,
      ": input is (",
      x.rows,
      ", ",
      x.cols,
      ") but weight is (",
      out_features,
      ", ",
      in_features,
      "): in_features differ");
  require(
      y.rows == x.rows && y.cols == out_features,
      ErrorKind::kShape,
      fn,
      ": output is (",
      y.rows,
      ", ",
      y.cols,
      "), expected (",
      x.rows,
      ", ",
      out_features,
      ")");
  require(
      bias.empty() || static_cast<std::int64_t>(bias.size()) == out_features,
      ErrorKind::kShape,
      fn,
      ": bias has ",
      bias.size(),
      " elements, expected ",
      out_features);
}
inline void add_bias(std::span<float const> bias, MatrixRef<float> const& y) {
  if (!bias.empty()) {
    as_eigen(y).rowwise() += Eigen::Map<Eigen::RowVectorXf const>(bias.data(), y.cols);
  }
}
}  // namespace detail

//! y = x W^T + bias in float. x (M, K), w (N, K), y (M, N).
inline void linear_float(
    MatrixRef<float const> x,
    MatrixRef<float const> w,
    std::span<float const> bias,
    MatrixRef<float> y) {
  detail::check_linear(x, w.rows, w.cols, bias, y, "linear_float");
  as_eigen(y).noalias() = as_eigen(x) * as_eigen(w).transpose();
  detail::add_bias(bias, y);
}

//! y = x (s_w * Wq)^T + bias: weight dequantized per channel, activation unquantized.
//! Computed as (x Wq^T) * s_w: the float product runs on the int8 codes (exact as floats), then
//! each output column is scaled.
//! - Eigen's blocked GEMM, which it uses for x Wq^T when M > 1, N > 1 and M + N + K >=
//!   EIGEN_GEMM_TO_COEFFBASED_THRESHOLD, first copies the cast codes into a temporary float
//!   matrix; here that matrix is the workspace's (no allocation per call) and the same kernel
//!   runs on the same values, so y is bit for bit what the plain expression gives. Other
//!   shapes keep the plain expression: with one row Eigen multiplies through the cast
//!   without a copy (and in a different order than with a float matrix).
//! @param ws scratch (Workspace::weight_codes_f32); thread_workspace() in the overload without
inline void linear_w8a16(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    std::span<float const> bias,
    MatrixRef<float> y,
    Workspace& ws) {
  detail::check_linear(x, w.out_features, w.in_features, bias, y, "linear_w8a16");
  std::int64_t const m = x.rows;
  std::int64_t const n = w.out_features;
  std::int64_t const k = w.in_features;
  if (m > 1 && n > 1 && m + n + k >= EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) {
    MatrixRef<float> const wf{Workspace::take(ws.weight_codes_f32, n * k).data(), n, k, k};
    as_eigen(wf) = as_eigen(w.view()).template cast<float>();
    as_eigen(y).noalias() = as_eigen(x) * as_eigen(MatrixRef<float const>(wf)).transpose();
  } else {
    as_eigen(y).noalias() = as_eigen(x) * as_eigen(w.view()).template cast<float>().transpose();
  }
  auto const s = Eigen::Map<Eigen::RowVectorXf const>(w.scales.data(), n);
  as_eigen(y).array().rowwise() *= s.array();
  detail::add_bias(bias, y);
}

//! linear_w8a16 with the calling thread's workspace.
inline void linear_w8a16(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    std::span<float const> bias,
    MatrixRef<float> y) {
  linear_w8a16(x, w, bias, y, thread_workspace());
}

namespace detail {
//! The one W8A8 linear body: quantizes x through the policy P (so its estimator is honoured;
//! a Static policy reads `static_scale`), then gemm_dequant.
template <ActivationPolicy P>
requires(!is_per_group_v<typename P::Granularity>) void linear_w8a8_policy(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    float static_scale,
    std::span<float const> bias,
    MatrixRef<float> y,
    Workspace& ws) {
  check_linear(x, w.out_features, w.in_features, bias, y, "linear_w8a8");
  MatrixRef<std::int8_t> const xq{
      Workspace::take(ws.act_codes, x.rows * x.cols).data(), x.rows, x.cols, x.cols};
  std::span<float> const act_scales =
      Workspace::take(ws.act_scales, scale_count<typename P::Granularity>(x.rows, x.cols));
  if constexpr (!P::is_dynamic) {
    act_scales[0] = static_scale;  // Static pairs with PerTensor only: one scale
  }
  quantize<P>(x, xq, act_scales);
  gemm_dequant(xq, w.view(), {act_scales, w.scales, bias, {}}, y, ws);
}
}  // namespace detail

//! y = dequant(quant(x) Wq^T) + bias with the activation scheme chosen at run time.
//! - kPerToken / kPerTensor compute scales from x (AbsMax); kStatic uses `static_scale`,
//!   which must be finite and positive, and saturates values beyond it.
//! @param ws scratch for the codes, the scales and gemm_dequant; thread_workspace() in the
//!           overload without
inline void linear_w8a8(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    ActScheme act,
    float static_scale,
    std::span<float const> bias,
    MatrixRef<float> y,
    Workspace& ws) {
  dispatch(
      act, [&]<class P>(P) { detail::linear_w8a8_policy<P>(x, w, static_scale, bias, y, ws); });
}

//! linear_w8a8 with the calling thread's workspace.
inline void linear_w8a8(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    ActScheme act,
    float static_scale,
    std::span<float const> bias,
    MatrixRef<float> y) {
  linear_w8a8(x, w, act, static_scale, bias, y, thread_workspace());
}

//! Compile-time-policy form: `linear_w8a8<AQ2>(x, w, y)`; Static policies take the scale.
//! The policy's estimator is honoured (the run-time ActScheme names AbsMax only).
template <ActivationPolicy P>
requires(!is_per_group_v<typename P::Granularity>) void linear_w8a8(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    MatrixRef<float> y,
    float static_scale = 0.0f,
    std::span<float const> bias = {}) {
  detail::linear_w8a8_policy<P>(x, w, static_scale, bias, y, thread_workspace());
}

}  // namespace spikequant::v0::cpu
