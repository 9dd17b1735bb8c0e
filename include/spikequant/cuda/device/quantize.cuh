// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host entry points for activation quantization on the GPU: dynamic per-token (AQ1),
//! dynamic per-tensor (AQ2) and static per-tensor (AQ3), from f32 / f16 / bf16 rows.
#pragma once

#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/core/status.hpp"
#include "spikequant/cuda/kernel/quantize_rows.cuh"
#include "spikequant/cuda/runtime/check.cuh"
#include "spikequant/cuda/runtime/checks.cuh"
#include "spikequant/cuda/runtime/launch.cuh"

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>
#include <span>

namespace spikequant::inline v0::cuda {

//! Where a row kernel's result goes: INT8 codes + scales, or plain floats.
//! - Quantized (values.data == nullptr): `codes` (M, K) int8 and `scales` in device memory,
//!   M floats for kPerToken, 1 float for kPerTensor, 1 float or empty for kStatic (the static
//!   scale is then copied there). `static_scale` is read for kStatic only.
//! - Float (values.data != nullptr): `values` (M, K) float; codes and scales must be empty.
struct RowsOutput {
  ActScheme scheme = ActScheme::kPerToken;
  MatrixRef<std::int8_t> codes{};  // (M, K) int8, device
  std::span<float> scales{};       // device
  float static_scale = 0.0f;
  MatrixRef<float> values{};  // (M, K) float, device; non-null selects the float output
};

namespace detail {

//! True when rows starting at `p` with stride `ld` elements stay `bytes`-aligned.
inline bool rows_aligned(void const* p, std::int64_t ld, std::size_t elem, std::size_t bytes) {
  return is_aligned(p, bytes) && (static_cast<std::uint64_t>(ld) * elem) % bytes == 0;
}

//! Shape / alignment / pointer checks of an (M, K) input named `what`.
template <class T>
void check_input(MatrixRef<T const> const& x, char const* fn, char const* what) {
  require_not_null(x.data, ::spikequant::detail::concat(fn, ": ", what));
  require_matrix_shape(x.rows, x.cols, x.ld, ::spikequant::detail::concat(fn, ": ", what));
  require(
      x.rows <= INT_MAX,
      ErrorKind::kUnsupported,
      fn,
      ": ",
      what,
      " has ",
      x.rows,
      " rows; at most ",
      INT_MAX,
      " (one block per row)");
  require_aligned(
      x.data, sizeof(T), ::spikequant::detail::concat(fn, ": ", what, " (element alignment)"));
}

//! Checks `out` against an (rows, cols) problem.
inline void
check_output(RowsOutput const& out, std::int64_t rows, std::int64_t cols, char const* fn) {
  auto shape_is = [&](std::int64_t r, std::int64_t c, std::int64_t ld, char const* what) {
    require_matrix_shape(r, c, ld, ::spikequant::detail::concat(fn, ": ", what));
    require(
        r == rows && c == cols,
        ErrorKind::kShape,
        fn,
        ": ",
        what,
        " is (",
        r,
        ", ",
        c,
        ") but the input is (",
        rows,
        ", ",
        cols,
        ")");
  };
  if (out.values.data != nullptr) {
    shape_is(out.values.rows, out.values.cols, out.values.ld, "values");
    require_aligned(out.values.data, sizeof(float), ::spikequant::detail::concat(fn, ": values"));
    require(
        out.codes.data == nullptr && out.scales.empty(),
        ErrorKind::kInvalidArgument,
        fn,
        ": float output selected (values set) but codes or scales are also set");
    return;
  }
  require_not_null(out.codes.data, ::spikequant::detail::concat(fn, ": codes"));
  shape_is(out.codes.rows, out.codes.cols, out.codes.ld, "codes");
  auto const n = static_cast<std::int64_t>(out.scales.size());
  switch (out.scheme) {
  case ActScheme::kPerToken:
    require(
        n == rows, ErrorKind::kShape, fn, ": per-token scales need M = ", rows, " floats, got ", n);
    break;
  case ActScheme::kPerTensor:
    require(n == 1, ErrorKind::kShape, fn, ": per-tensor scales need 1 float, got ", n);
    break;
  case ActScheme::kStatic:
    require(n <= 1, ErrorKind::kShape, fn, ": static scales need 0 or 1 float, got ", n);
    require(
        is_finite(out.static_scale),
        ErrorKind::kNonFinite,
        fn,
        ": static scale is ",
        out.static_scale);
    require(
        out.static_scale > 0.0f,
        ErrorKind::kInvalidArgument,
        fn,
        ": static scale must be > 0, got ",
        out.static_scale);
    break;
  default:
    fail(ErrorKind::kInvalidArgument, fn, ": unknown ActScheme ", static_cast<int>(out.scheme));
  }
  if (n > 0) {
    require_not_null(out.scales.data(), ::spikequant::detail::concat(fn, ": scales"));
    require_aligned(out.scales.data(), sizeof(float), ::spikequant::detail::concat(fn, ": scales"));
  }
}

//! Bytes of workspace `out` needs: one 32-bit word for dynamic per-tensor, else 0.
inline std::size_t output_workspace_size(RowsOutput const& out) {
  return out.values.data == nullptr && out.scheme == ActScheme::kPerTensor ? sizeof(unsigned int)
                                                                           : 0;
}

inline void
check_workspace(RowsOutput const& out, void const* workspace, std::size_t bytes, char const* fn) {
  auto const need = output_workspace_size(out);
  if (need > 0) {
    require(
        workspace != nullptr && bytes >= need,
        ErrorKind::kInvalidArgument,
        fn,
        ": per-tensor quantization needs ",
        need,
        " bytes of device workspace (get_workspace_size), got ",
        bytes,
        workspace == nullptr ? " at nullptr" : "");
    require_aligned(
        workspace, alignof(unsigned int), ::spikequant::detail::concat(fn, ": workspace"));
  }
}

//! True when the outputs allow kVec-wide stores (codes kVec bytes, values 4 * kVec bytes).
inline bool output_vectorizable(RowsOutput const& out, int vec) {
  auto const v = static_cast<std::size_t>(vec);
  if (out.values.data != nullptr) {
    return rows_aligned(out.values.data, out.values.ld, sizeof(float), v * sizeof(float));
  }
  return rows_aligned(out.codes.data, out.codes.ld, 1, v);
}

template <class Op, int kVec, bool kAllowFloat>
void launch_rows_impl(
    typename Op::Params const& op,
    RowsOutput const& out,
    std::int64_t rows,
    std::int64_t cols,
    void* workspace,
    cudaStream_t stream) {
  RowOutputParams o{};
  o.codes = out.codes.data;
  o.ld_codes = out.codes.ld;
  o.scales = out.scales.empty() ? nullptr : out.scales.data();
  o.values = out.values.data;
  o.ld_values = out.values.ld;
  dim3 const grid(static_cast<unsigned int>(rows));
  auto params = [&]<RowOutput kOut>() {
    return typename RowKernel<Op, kOut, kVec>::Params{op, o, rows, cols};
  };
  if constexpr (kAllowFloat) {
    if (out.values.data != nullptr) {
      launch<RowKernel<Op, RowOutput::kFloat, kVec>>(
          grid, params.template operator()<RowOutput::kFloat>(), stream);
      return;
    }
  }
  switch (out.scheme) {
  case ActScheme::kPerToken:
    launch<RowKernel<Op, RowOutput::kPerTokenCodes, kVec>>(
        grid, params.template operator()<RowOutput::kPerTokenCodes>(), stream);
    return;
  case ActScheme::kPerTensor: {
    // Pass 1: every row block folds its absmax into one word with an integer atomicMax
    // (order-independent, so deterministic). Pass 2: every block reads it, derives the scale
    // and quantizes its row again from the input (recompute; no intermediate is stored).
    auto* bits = static_cast<unsigned int*>(workspace);
    SPIKEQUANT_CUDA_CHECK(cudaMemsetAsync(bits, 0, sizeof(unsigned int), stream));
    o.absmax_bits = bits;
    launch<RowKernel<Op, RowOutput::kAbsmax, kVec>>(
        grid, params.template operator()<RowOutput::kAbsmax>(), stream);
    launch<RowKernel<Op, RowOutput::kCodes, kVec>>(
        grid, params.template operator()<RowOutput::kCodes>(), stream);
    return;
  }
  case ActScheme::kStatic:
    o.static_scale = out.static_scale;
    launch<RowKernel<Op, RowOutput::kCodes, kVec>>(
        grid, params.template operator()<RowOutput::kCodes>(), stream);
    return;
  }
}

//! Launches the row kernels for `out` with 16-byte vectors when `vectorizable`, else scalar.
template <class Op, bool kAllowFloat>
void launch_rows(
    typename Op::Params const& op,
    RowsOutput const& out,
    std::int64_t rows,
    std::int64_t cols,
    bool vectorizable,
    void* workspace,
    cudaStream_t stream) {
  constexpr int kVec = 16 / static_cast<int>(sizeof(typename Op::Element));
  if (vectorizable) {
    launch_rows_impl<Op, kVec, kAllowFloat>(op, out, rows, cols, workspace, stream);
  } else {
    launch_rows_impl<Op, 1, kAllowFloat>(op, out, rows, cols, workspace, stream);
  }
}

}  // namespace detail

//! Quantizes an (M, K) activation to INT8 codes + scales on the GPU (AQ1 / AQ2 / AQ3).
//! - Codes and scales are bit-identical to cpu::quantize_dynamic<PerToken / PerTensor> and
//!   cpu::quantize_static<PerTensor> on the same values converted to float (f16 / bf16 are
//!   widened exactly): same absmax, scale_from_absmax, inverse_scale and quantize_value.
//! - One block per row, 256 threads, 16-byte loads when x's rows are 16-byte aligned and
//!   codes' rows 16 / sizeof(T)-byte aligned; otherwise a scalar path (any K, any ld).
//! - Per-tensor: two launches (row absmax -> atomicMax into the 4-byte workspace; then
//!   quantize), preceded by a 4-byte cudaMemsetAsync of the workspace. Deterministic.
//! - NaN / Inf in the input: the kernel cannot throw; the scale comes out non-finite (NaN codes
//!   become 0), where the CPU reference throws Error(kNonFinite). Check scales if it matters.
//! - No allocation; everything is enqueued on `stream`. Inputs and outputs must not overlap.
//! @tparam T float, __half or __nv_bfloat16
template <RowElement T>
class QuantizeRows {
public:
  struct Arguments {
    MatrixRef<T const> x{};  // (M, K) device
    RowsOutput out{};        // codes (M, K) int8 + scales; the float output is not offered
  };

  //! Whether the kernels can run `args` (host-only: no CUDA call); the reason when not.
  static Status can_implement(Arguments const& args) noexcept {
    return status_of([&] { check(args); });
  }

  //! can_implement, as an Error (kShape, kAlignment, kInvalidArgument, kNonFinite, kUnsupported)
  //! naming the argument when the kernels cannot run `args`. Host-only: no CUDA call.
  static void check(Arguments const& args) {
    constexpr char const* fn = "cuda::QuantizeRows";
    detail::check_input(args.x, fn, "x");
    require(
        args.out.values.data == nullptr,
        ErrorKind::kInvalidArgument,
        fn,
        ": no float output (values); use codes and scales");
    detail::check_output(args.out, args.x.rows, args.x.cols, fn);
  }

  //! Device workspace bytes `run` needs (4 for per-tensor, else 0).
  static std::size_t get_workspace_size(Arguments const& args) {
    return detail::output_workspace_size(args.out);
  }

  //! True when `run` takes the 16-byte vector path for `args`.
  static bool is_vectorized(Arguments const& args) {
    constexpr int kVec = 16 / static_cast<int>(sizeof(T));
    return detail::rows_aligned(args.x.data, args.x.ld, sizeof(T), 16) &&
           detail::output_vectorizable(args.out, kVec);
  }

  //! Checks `args` (check) and enqueues the kernels on `stream`.
  //! @param workspace get_workspace_size(args) bytes of device memory (may be null when 0)
  static void
  run(Arguments const& args,
      void* workspace,
      std::size_t workspace_bytes,
      cudaStream_t stream = nullptr) {
    check(args);
    detail::check_workspace(args.out, workspace, workspace_bytes, "cuda::QuantizeRows");
    typename kernel::ConvertOp<T>::Params const op{args.x.data, args.x.ld};
    detail::launch_rows<kernel::ConvertOp<T>, false>(
        op, args.out, args.x.rows, args.x.cols, is_vectorized(args), workspace, stream);
  }
};

}  // namespace spikequant::v0::cuda
