// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU reference linear layer y = x W^T (+ bias) in three modes: float, W8A16
//! (INT8 weights dequantized, float activations: QFeM's excluded modules) and W8A8.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/granularity.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/policy.hpp"
#include "spikequant/cpu/eigen_map.hpp"
#include "spikequant/cpu/gemm.hpp"
#include "spikequant/cpu/quantize.hpp"

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

//! Quantizes a float weight (out, in) per output channel with absmax scales.
inline QuantizedWeight quantize_weight(MatrixRef<float const> w) {
  auto q = quantize_dynamic<granularity::PerChannel>(w);
  return {w.rows, w.cols, std::move(q.codes), std::move(q.scales)};
}

//! How one linear module runs.
enum class LinearMode {
  kFloat,  //!< float weight, float activation
  kW8A16,  //!< INT8 per-channel weight dequantized, float activation (QFeM)
  kW8A8,   //!< INT8 weight and INT8 activation (AQ1/AQ2/AQ3)
};

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
//! Computed as (x Wq^T) * s_w so the dequantized weight is never materialised.
inline void linear_w8a16(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    std::span<float const> bias,
    MatrixRef<float> y) {
  detail::check_linear(x, w.out_features, w.in_features, bias, y, "linear_w8a16");
  auto const wq = as_eigen(w.view()).template cast<float>();
  auto const s = Eigen::Map<Eigen::RowVectorXf const>(w.scales.data(), w.out_features);
  as_eigen(y).noalias() = as_eigen(x) * wq.transpose();
  as_eigen(y).array().rowwise() *= s.array();
  detail::add_bias(bias, y);
}

//! y = dequant(quant(x) Wq^T) + bias with the activation scheme chosen at run time.
//! - kPerToken / kPerTensor compute scales from x (AbsMax); kStatic uses `static_scale`,
//!   which must be finite and positive, and saturates values beyond it.
inline void linear_w8a8(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    ActScheme act,
    float static_scale,
    std::span<float const> bias,
    MatrixRef<float> y) {
  detail::check_linear(x, w.out_features, w.in_features, bias, y, "linear_w8a8");
  std::vector<std::int8_t> codes(static_cast<std::size_t>(x.rows * x.cols));
  MatrixRef<std::int8_t> const xq{codes.data(), x.rows, x.cols, x.cols};
  std::vector<float> act_scales;
  switch (act) {
  case ActScheme::kPerToken:
    act_scales.resize(static_cast<std::size_t>(x.rows));
    quantize_dynamic<granularity::PerToken>(x, xq, act_scales);
    break;
  case ActScheme::kPerTensor:
    act_scales.resize(1);
    quantize_dynamic<granularity::PerTensor>(x, xq, act_scales);
    break;
  case ActScheme::kStatic:
    act_scales.assign(1, static_scale);
    quantize_static<granularity::PerTensor>(x, act_scales, xq);
    break;
  }
  gemm_dequant(xq, w.view(), {act_scales, w.scales, bias, {}}, y);
}

//! Compile-time-policy form: `linear_w8a8<AQ2>(x, w, y)`; Static policies take the scale.
template <ActivationPolicy P>
requires(!is_per_group_v<typename P::Granularity>) void linear_w8a8(
    MatrixRef<float const> x,
    QuantizedWeight const& w,
    MatrixRef<float> y,
    float static_scale = 0.0f,
    std::span<float const> bias = {}) {
  linear_w8a8(x, w, act_scheme_of<P>, static_scale, bias, y);
}

}  // namespace spikequant::v0::cpu
