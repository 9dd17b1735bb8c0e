// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Row Op for RMSNorm (+quantize): (x * inv_rms) * weight, inv_rms from a double sum.
#pragma once

#include "spikequant/cuda/kernel/quantize_rows.cuh"

#include <cstdint>

namespace spikequant::inline v0::cuda::kernel {

//! Same arithmetic as cpu::rmsnorm: sum of squares in double, inv_rms = float(1 / sqrt(mean +
//! eps)) (IEEE double division and sqrt on device), then (x * inv_rms) * weight in float.
//! Only the order of the double sum differs, so inv_rms matches the CPU except in the rare case
//! where that changes the float rounding.
template <RowElement T>
struct RmsNormOp {
  using Element = T;
  static constexpr bool kRowSumSquares = true;
  struct Params {
    T const* x = nullptr;  // (rows, cols), row stride ld
    std::int64_t ld = 0;
    T const* weight = nullptr;  // cols
    float eps = 0.0f;
  };
  template <int N>
  SPIKEQUANT_DEVICE static void
  stage(Params const& p, std::int64_t row, std::int64_t col, float (&v)[N]) {
    load_float<N>(p.x + row * p.ld + col, v);
  }
  SPIKEQUANT_DEVICE static float row_factor(Params const& p, double sum_sq, std::int64_t cols) {
    double const mean_sq = sum_sq / static_cast<double>(cols);
    return static_cast<float>(1.0 / sqrt(mean_sq + static_cast<double>(p.eps)));
  }
  template <int N>
  SPIKEQUANT_DEVICE static void
  finish(Params const& p, float inv_rms, std::int64_t col, float (&v)[N]) {
    float w[N];
    load_float<N>(p.weight + col, w);
#pragma unroll
    for (int j = 0; j < N; ++j) {
      v[j] = (v[j] * inv_rms) * w[j];
    }
  }
};

}  // namespace spikequant::v0::cuda::kernel
