// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host entry point of the fused GLU (+quantize) kernel: act(gate) * up, written as floats
//! or quantized (per-token, per-tensor, static) for the input of the `down` projection.
#pragma once

#include "spikequant/core/activation.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/status.hpp"
#include "spikequant/cuda/device/quantize.cuh"
#include "spikequant/cuda/kernel/glu_quantize.cuh"

#include <cstddef>
#include <cuda_runtime_api.h>

namespace spikequant::inline v0::cuda {

//! out = act(gate) * up per element (glu_value), then quantized, in one pass per row.
//! - Layout: gate and up are two separate row-major (M, H) matrices with their own leading
//!   dimensions (a fused (M, 2H) gate|up buffer: up = gate + H, both ld = 2H).
//! - Per-token: one read of gate and up, the product kept in registers, one write of codes.
//! - Per-tensor: pass 1 reads gate/up and folds the product's absmax into a 4-byte workspace;
//!   pass 2 reads them again and recomputes the product (for f16/bf16 inputs that moves fewer
//!   bytes than writing and re-reading a float product: 8 + 1 vs 4 + 4 + 4 + 1 bytes/element).
//! - Float output (`out.values` set): the product itself in float, no quantization.
//! - Codes equal cpu::quantize_* applied to this kernel's own float product exactly; the product
//!   matches cpu::glu up to the last bits of the device expf / tanhf.
//! - Vector path (16-byte loads) when gate, up and the output are row-aligned; scalar otherwise.
//! @tparam T float, __half or __nv_bfloat16
//! @tparam A activation::Silu (SwiGLU) or activation::GeluTanh (GeGLU)
template <RowElement T, GluActivation A>
class GluQuantize {
public:
  struct Arguments {
    MatrixRef<T const> gate{};  // (M, H) device
    MatrixRef<T const> up{};    // (M, H) device
    RowsOutput out{};           // codes (M, H) + scales, or values (M, H) float
  };

  //! Whether the kernels can run `args` (host-only: no CUDA call); the reason when not.
  static Status can_implement(Arguments const& args) noexcept {
    return status_of([&] { check(args); });
  }

  //! can_implement, as an Error naming the argument when the kernels cannot run `args`. Host-only.
  static void check(Arguments const& args) {
    constexpr char const* fn = "cuda::GluQuantize";
    detail::check_input(args.gate, fn, "gate");
    detail::check_input(args.up, fn, "up");
    require(
        args.gate.rows == args.up.rows && args.gate.cols == args.up.cols,
        ErrorKind::kShape,
        fn,
        ": gate is (",
        args.gate.rows,
        ", ",
        args.gate.cols,
        ") but up is (",
        args.up.rows,
        ", ",
        args.up.cols,
        ")");
    detail::check_output(args.out, args.gate.rows, args.gate.cols, fn);
  }

  static std::size_t get_workspace_size(Arguments const& args) {
    return detail::output_workspace_size(args.out);
  }

  static bool is_vectorized(Arguments const& args) {
    constexpr int kVec = 16 / static_cast<int>(sizeof(T));
    return detail::rows_aligned(args.gate.data, args.gate.ld, sizeof(T), 16) &&
           detail::rows_aligned(args.up.data, args.up.ld, sizeof(T), 16) &&
           detail::output_vectorizable(args.out, kVec);
  }

  static void
  run(Arguments const& args,
      void* workspace,
      std::size_t workspace_bytes,
      cudaStream_t stream = nullptr) {
    check(args);
    detail::check_workspace(args.out, workspace, workspace_bytes, "cuda::GluQuantize");
    using Op = kernel::GluOp<T, A>;
    typename Op::Params const op{args.gate.data, args.gate.ld, args.up.data, args.up.ld};
    detail::launch_rows<Op, true>(
        op, args.out, args.gate.rows, args.gate.cols, is_vectorized(args), workspace, stream);
  }
};

//! SwiGLU (+quantize): silu(gate) * up (LLaMA, Mistral).
template <RowElement T>
using SwiGluQuantize = GluQuantize<T, activation::Silu>;
//! GeGLU (+quantize): gelu_tanh(gate) * up (Gemma).
template <RowElement T>
using GeGluQuantize = GluQuantize<T, activation::GeluTanh>;

}  // namespace spikequant::v0::cuda
