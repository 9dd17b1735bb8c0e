// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Pieces shared by the sm_80 GEMM kernels: the predicated cp.async tile loader, the
//! padded shared-memory row layout and the generic __global__ entry point.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/arch/sm80_mma.cuh"
#include "spikequant/cuda/runtime/check.cuh"

#include <cstdint>
#include <cuda_runtime.h>

namespace spikequant::inline v0::cuda::detail {

//! Shared-memory row pitch for a tile row of `data_bytes` bytes: one extra 16-byte chunk.
//! With an odd number of 16-byte chunks per row, the 8 row addresses of an ldmatrix phase
//! (8 consecutive rows, same column chunk) fall into 8 different 16-byte bank groups, so
//! ldmatrix is conflict-free without an XOR swizzle (at the cost of 16 bytes per row).
constexpr int padded_row_bytes(int data_bytes) {
  return data_bytes + 16;
}

//! Copies rows [row0, row0 + Rows) x bytes [col0, col0 + RowBytes) of a row-major global
//! matrix into a padded shared tile with cp.async, 16 bytes per copy, zero-filling chunks
//! whose row is >= row_limit or whose first byte is >= col_limit (in bytes).
//! - Preconditions: base and ld_bytes are 16-byte aligned, col_limit is a multiple of 16, so a
//!   chunk is either entirely inside the matrix or entirely outside.
//! @tparam Rows_ tile rows; @tparam RowBytes_ tile bytes per row; @tparam Threads_ block size.
template <int Rows_, int RowBytes_, int Threads_>
SPIKEQUANT_DEVICE void load_tile_async(
    std::uint32_t smem_tile,
    char const* base,
    std::int64_t ld_bytes,
    int row0,
    int row_limit,
    std::int64_t col0,
    std::int64_t col_limit,
    int thread_idx) {
  constexpr int kChunksPerRow = RowBytes_ / 16;
  constexpr int kChunks = Rows_ * kChunksPerRow;
  constexpr int kPitch = padded_row_bytes(RowBytes_);
  static_assert(RowBytes_ % 16 == 0, "tile rows are copied in 16-byte chunks");
  static_assert(kChunks % Threads_ == 0, "every thread issues the same number of copies");
#pragma unroll
  for (int i = 0; i < kChunks / Threads_; ++i) {
    int const chunk = thread_idx + i * Threads_;
    int const row = chunk / kChunksPerRow;
    int const cb = (chunk % kChunksPerRow) * 16;
    int const grow = row0 + row;
    std::int64_t const gcol = col0 + cb;
    bool const pred = grow < row_limit && gcol < col_limit;
    char const* src = pred ? base + static_cast<std::int64_t>(grow) * ld_bytes + gcol : base;
    arch::cp_async_16_zfill(smem_tile + static_cast<std::uint32_t>(row * kPitch + cb), src, pred);
  }
}

//! The one __global__ entry of the sm_80 GEMM kernels: dynamic shared memory, block (x = M
//! tile, y = N tile), thread index passed to the kernel struct's operator().
template <class Kernel>
__global__ void __launch_bounds__(Kernel::kThreads)
    sm80_gemm_kernel_entry(typename Kernel::Params const params) {
#if defined(SPIKEQUANT_ARCH_SM80_ENABLED)
  extern __shared__ __align__(128) unsigned char sm80_gemm_smem[];
  Kernel{}(
      params,
      sm80_gemm_smem,
      static_cast<int>(blockIdx.x),
      static_cast<int>(blockIdx.y),
      static_cast<int>(threadIdx.x));
#else
  (void)params;
  arch::invalid_arch_trap();  // mma.sync / cp.async need sm_80 or newer
#endif
}

//! Launches Kernel over `grid` with its dynamic shared memory (raising the per-kernel limit
//! above 48 KiB first). Throws Error(kCuda) on a launch or attribute error.
template <class Kernel>
void launch_sm80_gemm(typename Kernel::Params const& params, dim3 grid, cudaStream_t stream) {
  auto* fn = &sm80_gemm_kernel_entry<Kernel>;
  SPIKEQUANT_CUDA_CHECK(
      cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, Kernel::kSmemBytes));
  fn<<<grid, Kernel::kThreads, Kernel::kSmemBytes, stream>>>(params);
  SPIKEQUANT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace spikequant::v0::cuda::detail
