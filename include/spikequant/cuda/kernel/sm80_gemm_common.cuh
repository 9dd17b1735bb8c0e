// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Pieces shared by the sm_80 GEMM kernels: the predicated cp.async tile loader, the
//! multistage mainloop and the accumulator walk (the index arithmetic is in
//! sm80_gemm_index.hpp). The kernels launch through cuda::launch<Kernel> (runtime/launch.cuh).
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/arch/sm80_mma.cuh"
#include "spikequant/cuda/kernel/sm80_gemm_index.hpp"

#include <cstdint>

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

//! The cp.async multistage mainloop both sm_80 GEMMs run (index arithmetic and the group
//! accounting: sm80_gemm_index.hpp). Tile kt + Stages - 1 loads while tile kt computes.
//! - `load(slot, k0)` issues this thread's cp.async copies of the K tile starting at k0 into
//!   the shared slot at address `slot`; `compute(slot)` runs the tile's fragment loads + mma.
//! - Every thread of the block must call it (it contains the block's barriers).
template <int Stages_, class Load, class Compute>
SPIKEQUANT_DEVICE void sm80_multistage_mainloop(
    int k, int block_k, std::uint32_t smem_base, int stage_bytes, Load&& load, Compute&& compute) {
  int const k_tiles = (k + block_k - 1) / block_k;
  constexpr int kPrefetch = pipeline_prefetch_distance(Stages_);
  auto const slot = [&](int tile) {
    return smem_base + static_cast<std::uint32_t>(pipeline_slot(tile, Stages_) * stage_bytes);
  };
  // Prologue: tiles 0 .. kPrefetch-1 in flight, one commit group each (empty groups past K
  // keep the group count uniform, so wait_group<S-2> below always means "tile kt landed").
#pragma unroll
  for (int s = 0; s < kPrefetch; ++s) {
    if (s < k_tiles) {
      load(slot(s), s * block_k);
    }
    arch::cp_async_commit();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    // This thread's copies of tile kt are done ...
    arch::cp_async_wait<pipeline_wait_pending(Stages_)>();
    // ... and everyone's are visible; the slot of tile kt - 1 (which tile kt + kPrefetch
    // reuses) is no longer read by any warp.
    __syncthreads();
    int const next = kt + kPrefetch;
    if (next < k_tiles) {
      load(slot(next), next * block_k);
    }
    arch::cp_async_commit();
    compute(slot(kt));
  }
  arch::cp_async_wait<0>();  // only empty groups can remain; drain them before exit
}

//! Zeroes a warp's MmaM x MmaN mma accumulator tiles.
template <class Acc, int MmaM, int MmaN>
SPIKEQUANT_DEVICE void zero_accumulators(Acc (&acc)[MmaM][MmaN][4]) {
#pragma unroll
  for (int i = 0; i < MmaM; ++i) {
#pragma unroll
    for (int j = 0; j < MmaN; ++j) {
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        acc[i][j][r] = Acc{0};
      }
    }
  }
}

//! Calls store(row, col, v0, v1) for every accumulator pair of a warp's tiles: (row0, col0) is
//! where register 0 of its first m16n8 tile goes; registers (0, 1) and (2, 3) of every tile
//! are column pairs of one output row (acc_row_offset / acc_col_offset). Fully unrolled so
//! acc stays in registers; two explicit pair stores, not a loop over the pair index (with the
//! loop nvcc 13 emits about 2.5x the epilogue code, same results).
template <class Acc, int MmaM, int MmaN, class Store>
SPIKEQUANT_DEVICE void
for_each_accumulator_pair(Acc const (&acc)[MmaM][MmaN][4], int row0, int col0, Store&& store) {
#pragma unroll
  for (int i = 0; i < MmaM; ++i) {
#pragma unroll
    for (int j = 0; j < MmaN; ++j) {
      store(row0 + acc_row_offset(i, 0), col0 + acc_col_offset(j, 0), acc[i][j][0], acc[i][j][1]);
      store(row0 + acc_row_offset(i, 2), col0 + acc_col_offset(j, 2), acc[i][j][2], acc[i][j][3]);
    }
  }
}

}  // namespace spikequant::v0::cuda::detail
