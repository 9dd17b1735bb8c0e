// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU reference gated linear units: SwiGLU silu(gate) * up and GeGLU gelu_tanh(gate) * up.
#pragma once

#include "spikequant/core/activation.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"

#include <cstdint>

namespace spikequant::inline v0::cpu {

namespace detail {
inline void check_glu(
    MatrixRef<float const> const& gate,
    MatrixRef<float const> const& up,
    MatrixRef<float> const& out,
    char const* fn) {
  require(
      gate.rows > 0 && gate.cols > 0,
      ErrorKind::kShape,
      fn,
      ": gate must be non-empty, got (",
      gate.rows,
      ", ",
      gate.cols,
      ")");
  require_same_shape(gate, up, "glu: gate", "up");
  require_same_shape(gate, MatrixRef<float const>(out), "glu: gate", "output");
}
}  // namespace detail

//! out[t, j] = act(gate[t, j]) * up[t, j], element by element (glu_value, shared with CUDA).
//! - `out` may alias `gate` or `up` exactly (same data and ld); partial overlap is undefined.
//! - NaN propagates; the function never throws for non-finite values.
//! - Throws Error(kShape) naming both shapes when gate, up and out differ or are empty.
//! @tparam A           gate activation tag (activation::Silu, activation::GeluTanh)
//! @param[in]  gate    (M, F) float: x W_gate^T
//! @param[in]  up      (M, F) float: x W_up^T
//! @param[out] out     (M, F) float: the input of the down projection
template <GluActivation A>
void glu(
    MatrixRef<float const> gate,
    MatrixRef<float const> up,
    MatrixRef<float> out,
    A const act = {}) {
  detail::check_glu(gate, up, out, "glu");
  for (std::int64_t r = 0; r < gate.rows; ++r) {
    for (std::int64_t c = 0; c < gate.cols; ++c) {
      out(r, c) = glu_value(gate(r, c), up(r, c), act);
    }
  }
}

//! SwiGLU: out = silu(gate) * up. Same preconditions as glu.
inline void swiglu(MatrixRef<float const> gate, MatrixRef<float const> up, MatrixRef<float> out) {
  glu<activation::Silu>(gate, up, out);
}

//! GeGLU (tanh approximation): out = gelu_tanh(gate) * up. Same preconditions as glu.
inline void geglu(MatrixRef<float const> gate, MatrixRef<float const> up, MatrixRef<float> out) {
  glu<activation::GeluTanh>(gate, up, out);
}

//! Run-time form: the GluKind of a model's config, dispatched to its tag. Same preconditions
//! as glu.
inline void
glu(GluKind kind, MatrixRef<float const> gate, MatrixRef<float const> up, MatrixRef<float> out) {
  dispatch(kind, [&](auto act) { glu(gate, up, out, act); });
}

}  // namespace spikequant::v0::cpu
