// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host entry point of the fused RMSNorm (+quantize) kernel that produces the INT8 input
//! of q/k/v (attention norm) and gate/up (FFN norm), or the normalised floats.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/core/status.hpp"
#include "spikequant/cuda/device/quantize.cuh"
#include "spikequant/cuda/kernel/rmsnorm_quantize.cuh"

#include <cstddef>
#include <cuda_runtime_api.h>
#include <span>

namespace spikequant::inline v0::cuda {

//! y = (x * inv_rms) * weight per row (cpu::rmsnorm's arithmetic, sum of squares in double),
//! then quantized per token / per tensor / with a static scale, or written as floats.
//! - Per-token: x is read once (kept in registers up to 8192 columns, re-read from L2 beyond).
//! - Per-tensor: pass 1 computes y's global absmax (4-byte workspace), pass 2 recomputes the
//!   norm and quantizes; x is read twice, y is never stored.
//! - Codes match cpu::quantize_* of cpu::rmsnorm's output exactly unless the different order of
//!   the double sum changes inv_rms's float rounding (not expected at these sizes).
//! - Vector path when x, weight and the output are row-aligned (16 bytes); scalar otherwise.
//! @tparam T float, __half or __nv_bfloat16 (x and weight share it)
template <RowElement T>
class RmsNormQuantize {
public:
  struct Arguments {
    MatrixRef<T const> x{};       // (M, D) device
    std::span<T const> weight{};  // D, device
    float eps = 1e-5f;            // finite, >= 0
    RowsOutput out{};             // codes (M, D) + scales, or values (M, D) float
  };

  //! Whether the kernels can run `args` (host-only); the reason when not.
  static Status can_implement(Arguments const& args) noexcept {
    return status_of([&] { check(args); });
  }

  //! can_implement, as an Error naming the argument.
  static void check(Arguments const& args) {
    constexpr char const* fn = "cuda::RmsNormQuantize";
    detail::check_input(args.x, fn, "x");
    require(
        static_cast<std::int64_t>(args.weight.size()) == args.x.cols,
        ErrorKind::kShape,
        fn,
        ": weight has ",
        args.weight.size(),
        " elements but x is (",
        args.x.rows,
        ", ",
        args.x.cols,
        ")");
    require_not_null(args.weight.data(), "cuda::RmsNormQuantize: weight");
    require_aligned(args.weight.data(), sizeof(T), "cuda::RmsNormQuantize: weight");
    require(
        is_finite(args.eps) && args.eps >= 0.0f,
        ErrorKind::kInvalidArgument,
        fn,
        ": eps must be finite and >= 0, got ",
        args.eps);
    detail::check_output(args.out, args.x.rows, args.x.cols, fn);
  }

  static std::size_t get_workspace_size(Arguments const& args) {
    return detail::output_workspace_size(args.out);
  }

  static bool is_vectorized(Arguments const& args) {
    constexpr int kVec = 16 / static_cast<int>(sizeof(T));
    return detail::rows_aligned(args.x.data, args.x.ld, sizeof(T), 16) &&
           is_aligned(args.weight.data(), 16) && detail::output_vectorizable(args.out, kVec);
  }

  static void
  run(Arguments const& args,
      void* workspace,
      std::size_t workspace_bytes,
      cudaStream_t stream = nullptr) {
    check(args);
    detail::check_workspace(args.out, workspace, workspace_bytes, "cuda::RmsNormQuantize");
    using Op = kernel::RmsNormOp<T>;
    typename Op::Params const op{args.x.data, args.x.ld, args.weight.data(), args.eps};
    detail::launch_rows<Op, true>(
        op, args.out, args.x.rows, args.x.cols, is_vectorized(args), workspace, stream);
  }
};

}  // namespace spikequant::v0::cuda
