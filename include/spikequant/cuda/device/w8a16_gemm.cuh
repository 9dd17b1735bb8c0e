// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host entry of the sm_80+ W8A16 GEMM (QFeM's excluded modules):
//! d (M, N) = (x (M, K) * w (N, K)^T) * w_scales[n] (+ bias[n]), x fp16 / bf16, w int8.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/cuda/device/gemm.cuh"
#include "spikequant/cuda/device/gemm_arguments.hpp"
#include "spikequant/cuda/kernel/sm80_gemm_common.cuh"
#include "spikequant/cuda/kernel/sm80_w8a16_gemm.cuh"
#include "spikequant/cuda/tuning/int8_gemm_policy.hpp"

#include <cstddef>
#include <cuda_runtime.h>

namespace spikequant::inline v0::cuda {

//! W8A16 GEMM on tensor cores (mma.sync m16n8k16 f16/bf16, fp32 accumulate; sm_80+).
//! - The int8 weight is converted to fp16 / bf16 in registers (exact); no dequantized weight
//!   is ever written. The scale is applied once per output: (sum_k x * w_q) * s_w[n], the same
//!   factorisation as cpu::linear_w8a16.
//! - Accuracy: products are exact in fp32; the fp32 sum differs from a sequential sum only by
//!   ordering (bounded by about K * 2^-24 * sum_k |x w_q| * s_w), then one rounding to d_type.
//! - Preconditions (can_implement): K % 16 == 0; x, w 16-byte aligned, ldx % 8 == 0,
//!   ldw % 16 == 0; d aligned to its element type. No workspace; asynchronous on `stream`.
struct W8A16Gemm {
  using Arguments = W8A16GemmArguments;

  static void can_implement(Arguments const& args) { can_implement_w8a16_gemm(args); }
  static std::size_t get_workspace_size(Arguments const&) { return 0; }
  static GemmTile default_tile(Arguments const& args, int cc) {
    return select_w8a16_gemm_tile(cc, args.m, args.n);
  }

  //! Checks `args` once, then runs with the tile default_tile selects.
  static void run(Arguments const& args, cudaStream_t stream) {
    can_implement(args);
    int const cc = detail::current_compute_capability();
    detail::require_sm80(cc, "sm80 w8a16 gemm");
    dispatch(args, default_tile(args, cc), stream);
  }

  //! Runs with an explicit tile (kSm80W8A16TileLarge or kSm80W8A16TileSmall).
  static void run_with_tile(Arguments const& args, GemmTile tile, cudaStream_t stream) {
    can_implement(args);
    detail::require_sm80(detail::current_compute_capability(), "sm80 w8a16 gemm");
    dispatch(args, tile, stream);
  }

private:
  static void dispatch(Arguments const& args, GemmTile tile, cudaStream_t stream) {
    bool const bf16 = args.x_type == GemmElement::kBFloat16;
    if (tile == kSm80W8A16TileLarge) {
      bf16 ? launch<Sm80W8A16GemmKernel<kSm80W8A16TileLarge, true>>(args, stream)
           : launch<Sm80W8A16GemmKernel<kSm80W8A16TileLarge, false>>(args, stream);
    } else if (tile == kSm80W8A16TileSmall) {
      bf16 ? launch<Sm80W8A16GemmKernel<kSm80W8A16TileSmall, true>>(args, stream)
           : launch<Sm80W8A16GemmKernel<kSm80W8A16TileSmall, false>>(args, stream);
    } else {
      fail(ErrorKind::kUnsupported, "sm80 w8a16 gemm: tile ", tile, " is not instantiated");
    }
  }

  template <class Kernel>
  static void launch(Arguments const& args, cudaStream_t stream) {
    detail::require_grid_y(args.n, Kernel::Tile.block_n, "sm80 w8a16 gemm");
    cuda::launch<Kernel>(Kernel::grid(args), Kernel::to_underlying_arguments(args), stream);
  }
};

}  // namespace spikequant::v0::cuda
