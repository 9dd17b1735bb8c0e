// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Pieces shared by the sm_80 GEMM kernels: the predicated cp.async tile loader and the
//! generic __global__ entry point (the index arithmetic is in sm80_gemm_index.hpp).
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/arch/sm80_mma.cuh"
#include "spikequant/cuda/kernel/sm80_gemm_index.hpp"
#include "spikequant/cuda/runtime/check.cuh"
#include "spikequant/cuda/runtime/launch.cuh"

#include <cstdint>
#include <cuda_runtime.h>

namespace spikequant::inline v0::cuda::detail {

//! Copies rows [row0, row0 + Rows_) x bytes [col0, col0 + RowBytes_) of a row-major global
//! matrix into a padded shared tile with cp.async, 16 bytes per copy, zero-filling chunks
//! whose row is >= row_limit or whose first byte is >= col_limit (in bytes); the chunk
//! arithmetic is tile_chunk (sm80_gemm_index.hpp).
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
#pragma unroll
  for (int i = 0; i < kTileChunksPerThread<Rows_, RowBytes_, Threads_>; ++i) {
    TileChunk const c = tile_chunk<Rows_, RowBytes_, Threads_>(
        i, thread_idx, ld_bytes, row0, row_limit, col0, col_limit);
    // Predicated-off chunks still pass a valid address (the base); src-size 0 reads nothing.
    arch::cp_async_16_zfill(
        smem_tile + static_cast<std::uint32_t>(c.smem_offset), base + c.src_offset, c.pred);
  }
}

//! The one __global__ entry of the sm_80 GEMM kernels: dynamic shared memory, block (x = M
//! tile, y = N tile), thread index passed to the kernel struct's operator().
template <class Kernel>
__global__ void __launch_bounds__(Kernel::kThreads)
    sm80_gemm_kernel_entry(typename Kernel::Params const params) {
#if defined(SPIKEQUANT_ARCH_SM80_ENABLED)
  SPIKEQUANT_DYNAMIC_SHARED(unsigned char, sm80_gemm_smem, 128);
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
  set_max_dynamic_shared(fn, Kernel::kSmemBytes);
  launch_kernel(fn, grid, dim3(Kernel::kThreads), Kernel::kSmemBytes, stream, params);
}

}  // namespace spikequant::v0::cuda::detail
