// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host entry of the sm_80+ W8A16 GEMM (QFeM's excluded modules):
//! d (M, N) = (x (M, K) * w (N, K)^T) * w_scales[n] (+ bias[n]), x fp16 / bf16, w int8.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/status.hpp"
#include "spikequant/cuda/device/gemm.cuh"
#include "spikequant/cuda/device/gemm_arguments.hpp"
#include "spikequant/cuda/kernel/sm80_gemm_common.cuh"
#include "spikequant/cuda/kernel/sm80_w8a16_gemm.cuh"
#include "spikequant/cuda/runtime/launch.cuh"
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
//! - As Int8Gemm: `W8A16Gemm::run(args, stream)` checks and launches; a `W8A16Gemm gemm(args)`
//!   object checks and picks its kernel once, then `gemm.run(stream)` only launches.
class W8A16Gemm {
public:
  using Arguments = W8A16GemmArguments;

  //! Whether `args` can run (host-only checks); the reason when not.
  static Status can_implement(Arguments const& args) noexcept {
    return status_of([&] { can_implement_w8a16_gemm(args); });
  }
  //! can_implement, as an Error.
  static void check(Arguments const& args) { can_implement_w8a16_gemm(args); }
  static std::size_t get_workspace_size(Arguments const&) { return 0; }
  static GemmTile default_tile(Arguments const& args, int cc) {
    return select_w8a16_gemm_tile(cc, args.m, args.n);
  }

  //! Checks `args` once, then runs with the tile default_tile selects.
  static void run(Arguments const& args, cudaStream_t stream) { W8A16Gemm(args).run(stream); }

  //! Runs with an explicit tile (kSm80W8A16TileLarge or kSm80W8A16TileSmall).
  static void run_with_tile(Arguments const& args, GemmTile tile, cudaStream_t stream) {
    W8A16Gemm(args, tile).run(stream);
  }

  //! Checks `args`, needs sm_80+, fixes the default tile.
  explicit W8A16Gemm(Arguments const& args)
      : W8A16Gemm(args, GemmTile{}, false) {}
  //! The same with an explicit tile; Error(kUnsupported) for one that is not instantiated.
  W8A16Gemm(Arguments const& args, GemmTile tile)
      : W8A16Gemm(args, tile, true) {}

  //! Launches on `stream` (no checks, no device queries).
  void run(cudaStream_t stream) const {
    bool const bf16 = args_.x_type == GemmElement::kBFloat16;
    if (large_) {
      bf16 ? launch<Sm80W8A16GemmKernel<kSm80W8A16TileLarge, true>>(stream)
           : launch<Sm80W8A16GemmKernel<kSm80W8A16TileLarge, false>>(stream);
    } else {
      bf16 ? launch<Sm80W8A16GemmKernel<kSm80W8A16TileSmall, true>>(stream)
           : launch<Sm80W8A16GemmKernel<kSm80W8A16TileSmall, false>>(stream);
    }
  }

  [[nodiscard]] GemmTile tile() const noexcept {
    return large_ ? kSm80W8A16TileLarge : kSm80W8A16TileSmall;
  }

private:
  W8A16Gemm(Arguments const& args, GemmTile tile, bool explicit_tile)
      : args_(args) {
    check(args);
    large_ = detail::choose_sm80_tile(
        tile,
        explicit_tile,
        kSm80W8A16TileLarge,
        kSm80W8A16TileSmall,
        args.n,
        [&](int cc) { return default_tile(args, cc); },
        "sm80 w8a16 gemm");
  }

  template <class Kernel>
  void launch(cudaStream_t stream) const {
    cuda::launch<Kernel>(Kernel::grid(args_), Kernel::to_underlying_arguments(args_), stream);
  }

  Arguments args_;
  bool large_ = false;
};

}  // namespace spikequant::v0::cuda
