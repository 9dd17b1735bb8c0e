// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Dequantization epilogue: the per-element arithmetic shared by the fused INT8 GEMM
//! and the standalone kernel that dequantizes an int32 matrix (the cuBLASLt path).
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/device/gemm_arguments.hpp"
#include "spikequant/cuda/runtime/check.cuh"
#include "spikequant/cuda/runtime/launch.cuh"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <type_traits>

namespace spikequant::inline v0::cuda {

//! Device-side epilogue parameters (converted from DequantArguments).
struct DequantParams {
  float const* act_scales = nullptr;     // M or 1
  float const* weight_scales = nullptr;  // N or 1
  float const* bias = nullptr;           // N or nullptr
  void const* residual = nullptr;        // (M, N) in the output element type, or nullptr
  std::int64_t ld_residual = 0;
  bool act_per_token = false;
  bool weight_per_channel = false;

  static DequantParams from(DequantArguments const& e) {
    return {
        e.act_scales,
        e.weight_scales,
        e.bias,
        e.residual,
        e.ld_residual,
        e.act_scales_size > 1,
        e.weight_scales_size > 1};
  }
};

namespace detail {

//! C++ type stored for a float GemmElement.
template <GemmElement T>
struct GemmElementType {
  using type = float;
};
template <>
struct GemmElementType<GemmElement::kFloat16> {
  using type = __half;
};
template <>
struct GemmElementType<GemmElement::kBFloat16> {
  using type = __nv_bfloat16;
};

//! Reads element `i` of a T array as float (exact conversion).
template <GemmElement T>
SPIKEQUANT_DEVICE float load_as_float(void const* p, std::int64_t i) {
  if constexpr (T == GemmElement::kFloat16) {
    return __half2float(static_cast<__half const*>(p)[i]);
  } else if constexpr (T == GemmElement::kBFloat16) {
    return __bfloat162float(static_cast<__nv_bfloat16 const*>(p)[i]);
  } else {
    return static_cast<float const*>(p)[i];
  }
}

//! Writes `v`, rounded to nearest-even, into element `i` of a T array.
template <GemmElement T>
SPIKEQUANT_DEVICE void store_from_float(void* p, std::int64_t i, float v) {
  if constexpr (T == GemmElement::kFloat16) {
    static_cast<__half*>(p)[i] = __float2half_rn(v);
  } else if constexpr (T == GemmElement::kBFloat16) {
    static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v);
  } else {
    static_cast<float*>(p)[i] = v;
  }
}

//! Writes two adjacent values at element `i` (i even, array 2-element aligned) in one store.
template <GemmElement T>
SPIKEQUANT_DEVICE void store_pair_from_float(void* p, std::int64_t i, float v0, float v1) {
  if constexpr (T == GemmElement::kFloat16) {
    *reinterpret_cast<__half2*>(static_cast<__half*>(p) + i) = __floats2half2_rn(v0, v1);
  } else if constexpr (T == GemmElement::kBFloat16) {
    *reinterpret_cast<__nv_bfloat162*>(static_cast<__nv_bfloat16*>(p) + i) =
        __floats2bfloat162_rn(v0, v1);
  } else {
    *reinterpret_cast<float2*>(static_cast<float*>(p) + i) = make_float2(v0, v1);
  }
}

//! Calls f(std::integral_constant<GemmElement, t>{}) for the run-time float type `t`, so
//! per-element code is compiled once per output type while the caller stays type-erased.
template <class F>
SPIKEQUANT_DEVICE void dispatch_float_element(GemmElement t, F&& f) {
  switch (t) {
  case GemmElement::kFloat16:
    f(std::integral_constant<GemmElement, GemmElement::kFloat16>{});
    break;
  case GemmElement::kBFloat16:
    f(std::integral_constant<GemmElement, GemmElement::kBFloat16>{});
    break;
  default:
    f(std::integral_constant<GemmElement, GemmElement::kFloat32>{});
    break;
  }
}

}  // namespace detail

//! One output element before rounding to the output type, in the CPU reference's order:
//! ((float(acc) * act_scale) * weight_scale + bias) + residual. The _rn intrinsics are never
//! contracted into FMA, so fp32 results equal cpu::dequant_epilogue bit for bit.
//! @tparam T output element type (the residual has the same type)
template <GemmElement T>
SPIKEQUANT_DEVICE float
dequant_value(std::int32_t acc, std::int64_t row, std::int64_t col, DequantParams const& e) {
  float const sa = e.act_scales[e.act_per_token ? row : 0];
  float const sw = e.weight_scales[e.weight_per_channel ? col : 0];
  float v = __fmul_rn(__fmul_rn(__int2float_rn(acc), sa), sw);
  if (e.bias != nullptr) {
    v = __fadd_rn(v, e.bias[col]);
  }
  if (e.residual != nullptr) {
    v = __fadd_rn(v, detail::load_as_float<T>(e.residual, row * e.ld_residual + col));
  }
  return v;
}

//! Standalone dequantization: d (M, N) = epilogue(acc (M, N) int32). One thread per element,
//! consecutive threads on consecutive columns (coalesced int32 reads and output writes).
struct DequantEpilogueKernel {
  static constexpr int kThreads = 256;
  static constexpr int kRowsPerBlock = 4;  // grid.y covers rows in steps of 4

  struct Params {
    std::int64_t m = 0;
    std::int64_t n = 0;
    std::int32_t const* acc = nullptr;
    std::int64_t ld_acc = 0;
    void* d = nullptr;
    std::int64_t ldd = 0;
    GemmElement d_type = GemmElement::kFloat16;
    DequantParams epilogue{};
  };

  static Params to_underlying_arguments(DequantKernelArguments const& a) {
    return {a.m, a.n, a.acc, a.ld_acc, a.d, a.ldd, a.d_type, DequantParams::from(a.epilogue)};
  }

  static constexpr std::size_t kSharedBytes = 0;

  //! One thread: column blockIdx.x * kThreads + threadIdx.x of kRowsPerBlock rows starting at
  //! blockIdx.y * kRowsPerBlock, then every gridDim.y * kRowsPerBlock rows further (a grid's y
  //! is capped at 65535). Called by the generic entry cuda::device_kernel.
  SPIKEQUANT_DEVICE void operator()(Params const& p, char*) const {
    std::int64_t const col =
        static_cast<std::int64_t>(blockIdx.x) * kThreads + static_cast<std::int64_t>(threadIdx.x);
    std::int64_t const row_begin = static_cast<std::int64_t>(blockIdx.y) * kRowsPerBlock;
    std::int64_t const row_step = static_cast<std::int64_t>(gridDim.y) * kRowsPerBlock;
    for (int r = 0; r < kRowsPerBlock; ++r) {
      column(p, col, row_begin + r, row_step);
    }
  }

  //! Processes column `col` of rows row_begin, row_begin + row_step, ... of the matrix.
  SPIKEQUANT_DEVICE void
  column(Params const& p, std::int64_t col, std::int64_t row_begin, std::int64_t row_step) const {
    if (col >= p.n) {
      return;
    }
    detail::dispatch_float_element(p.d_type, [&](auto type) {
      constexpr GemmElement T = decltype(type)::value;
      for (std::int64_t row = row_begin; row < p.m; row += row_step) {
        float const v = dequant_value<T>(p.acc[row * p.ld_acc + col], row, col, p.epilogue);
        detail::store_from_float<T>(p.d, row * p.ldd + col, v);
      }
    });
  }
};

//! Dequantizes an int32 matrix on `stream`: d = epilogue(acc). No workspace, no allocation.
//! - Throws spikequant::Error from can_implement_dequant before launching; kCuda on launch errors.
//! @param[in] args device pointers; see DequantKernelArguments.
inline void run_dequant_epilogue(DequantKernelArguments const& args, cudaStream_t stream) {
  can_implement_dequant(args);
  using K = DequantEpilogueKernel;
  auto const params = K::to_underlying_arguments(args);
  auto const blocks_x = static_cast<unsigned>((args.n + K::kThreads - 1) / K::kThreads);
  auto const row_groups = (args.m + K::kRowsPerBlock - 1) / K::kRowsPerBlock;
  auto const blocks_y = static_cast<unsigned>(std::min<std::int64_t>(row_groups, 65535));
  launch<K>(dim3(blocks_x, blocks_y), params, stream);
}

}  // namespace spikequant::v0::cuda
