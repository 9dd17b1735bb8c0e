// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Row Op for GLU (+quantize): act(gate) * up from two separate (M, H) row-major inputs.
#pragma once

#include "spikequant/core/activation.hpp"
#include "spikequant/cuda/kernel/quantize_rows.cuh"

#include <cstdint>

namespace spikequant::inline v0::cuda::kernel {

//! Staged value = glu_value(gate, up, A{}) (core/activation.hpp, shared with cpu::glu).
//! Layout: gate and up are two separate row-major (M, H) matrices (the outputs of the gate
//! and up projections), each with its own leading dimension; a fused [gate | up] (M, 2H)
//! buffer is the same thing with up = gate + H and ld = 2H.
template <RowElement T, GluActivation A>
struct GluOp {
  using Element = T;
  static constexpr bool kRowSumSquares = false;
  struct Params {
    T const* gate = nullptr;  // (rows, cols), row stride ld_gate
    std::int64_t ld_gate = 0;
    T const* up = nullptr;  // (rows, cols), row stride ld_up
    std::int64_t ld_up = 0;
  };
  template <int N>
  SPIKEQUANT_DEVICE static void
  stage(Params const& p, std::int64_t row, std::int64_t col, float (&v)[N]) {
    float g[N];
    float u[N];
    load_float<N>(p.gate + row * p.ld_gate + col, g);
    load_float<N>(p.up + row * p.ld_up + col, u);
#pragma unroll
    for (int j = 0; j < N; ++j) {
      v[j] = glu_value(g[j], u[j], A{});
    }
  }
  SPIKEQUANT_DEVICE static float row_factor(Params const&, double, std::int64_t) {
    return 1.0f;
  }
  template <int N>
  SPIKEQUANT_DEVICE static void finish(Params const&, float, std::int64_t, float (&)[N]) {}
};

}  // namespace spikequant::v0::cuda::kernel
