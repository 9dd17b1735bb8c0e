// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Index arithmetic of the sm_80 GEMM kernels (shared-memory layout, cp.async chunks,
//! pipeline slots, ldmatrix row addresses, accumulator -> output coordinates), in plain C++20
//! with no CUDA header. The kernels call exactly these functions, so the host test
//! test/cuda/sm80_gemm_dataflow_test.cpp can replay a block's dataflow on the CPU with the
//! PTX-documented semantics of cp.async, ldmatrix and mma and check the kernels' index math
//! without a GPU.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/tuning/int8_gemm_policy.hpp"

#include <cstdint>

namespace spikequant::inline v0::cuda::detail {

//! Shared-memory row pitch for a tile row of `data_bytes` bytes: one extra 16-byte chunk.
//! With an odd number of 16-byte chunks per row, the 8 row addresses of an ldmatrix phase
//! (8 consecutive rows, same column chunk) fall into 8 different 16-byte bank groups, so
//! ldmatrix is conflict-free without an XOR swizzle (at the cost of 16 bytes per row).
SPIKEQUANT_HOST_DEVICE constexpr int padded_row_bytes(int data_bytes) {
  return data_bytes + 16;
}

//! Shared memory of an sm_80 GEMM block: `stages` slots, each the A tile (block_m padded rows)
//! followed by the B tile (block_n padded rows). A holds block_k elements of
//! `a_element_bytes` per row (1: int8, 2: fp16 / bf16), B holds block_k int8 per row.
struct Sm80GemmSmemLayout {
  int pitch_a = 0;        //!< bytes between A rows
  int pitch_b = 0;        //!< bytes between B rows
  int stage_bytes_a = 0;  //!< A tile of one slot
  int stage_bytes_b = 0;  //!< B tile of one slot (starts at stage_bytes_a inside the slot)
  int stage_bytes = 0;    //!< one slot
  int smem_bytes = 0;     //!< the whole ring (dynamic shared memory of the launch)
};

SPIKEQUANT_HOST_DEVICE constexpr Sm80GemmSmemLayout
sm80_gemm_smem_layout(GemmTile t, int a_element_bytes) {
  Sm80GemmSmemLayout l;
  l.pitch_a = padded_row_bytes(t.block_k * a_element_bytes);
  l.pitch_b = padded_row_bytes(t.block_k);
  l.stage_bytes_a = t.block_m * l.pitch_a;
  l.stage_bytes_b = t.block_n * l.pitch_b;
  l.stage_bytes = l.stage_bytes_a + l.stage_bytes_b;
  l.smem_bytes = t.stages * l.stage_bytes;
  return l;
}

//! One 16-byte cp.async of a tile load.
struct TileChunk {
  int smem_offset = 0;          //!< bytes from the start of the tile in shared memory
  std::int64_t src_offset = 0;  //!< bytes from the matrix base in global memory (when pred)
  bool pred = false;            //!< false: nothing is read, 16 zero bytes are written
};

//! cp.async copies each thread issues for a Rows_ x RowBytes_ tile with Threads_ threads.
template <int Rows_, int RowBytes_, int Threads_>
inline constexpr int kTileChunksPerThread = Rows_*(RowBytes_ / 16) / Threads_;

//! Copy `i` (0 <= i < kTileChunksPerThread) of thread `thread_idx` when a block copies rows
//! [row0, row0 + Rows_) x bytes [col0, col0 + RowBytes_) of a row-major global matrix (row
//! pitch `ld_bytes`) into a padded shared tile: consecutive threads take consecutive 16-byte
//! chunks of a row (coalesced). Chunks whose row is >= row_limit or whose first byte is
//! >= col_limit are predicated off (zero-filled).
//! - Preconditions: col_limit is a multiple of 16, so a chunk is entirely inside or outside.
template <int Rows_, int RowBytes_, int Threads_>
SPIKEQUANT_HOST_DEVICE constexpr TileChunk tile_chunk(
    int i,
    int thread_idx,
    std::int64_t ld_bytes,
    int row0,
    int row_limit,
    std::int64_t col0,
    std::int64_t col_limit) {
  constexpr int kChunksPerRow = RowBytes_ / 16;
  static_assert(RowBytes_ % 16 == 0, "tile rows are copied in 16-byte chunks");
  static_assert(
      (Rows_ * kChunksPerRow) % Threads_ == 0, "every thread issues the same number of copies");
  int const chunk = thread_idx + i * Threads_;
  int const row = chunk / kChunksPerRow;
  int const cb = (chunk % kChunksPerRow) * 16;
  int const grow = row0 + row;
  std::int64_t const gcol = col0 + cb;
  TileChunk c;
  c.smem_offset = row * padded_row_bytes(RowBytes_) + cb;
  c.pred = grow < row_limit && gcol < col_limit;
  c.src_offset = c.pred ? static_cast<std::int64_t>(grow) * ld_bytes + gcol : 0;
  return c;
}

// cp.async pipeline over K tiles (see the kernels' main loop):
//   prologue: tiles 0 .. D-1 issued into slots 0 .. D-1, one commit group each (D = stages - 1;
//             empty groups past the last tile keep the count uniform);
//   step kt:  wait_group<stages - 2> (this thread's group of tile kt has landed), __syncthreads
//             (everyone's has; slot of tile kt - 1 is no longer read), issue tile kt + D into
//             the slot tile kt - 1 used, commit, compute tile kt.

//! Tiles in flight ahead of the one being computed.
SPIKEQUANT_HOST_DEVICE constexpr int pipeline_prefetch_distance(int stages) {
  return stages - 1;
}
//! N of cp.async.wait_group N at the top of a step: the most groups that may stay pending.
SPIKEQUANT_HOST_DEVICE constexpr int pipeline_wait_pending(int stages) {
  return stages - 2;
}
//! Ring slot holding K tile `tile`.
SPIKEQUANT_HOST_DEVICE constexpr int pipeline_slot(int tile, int stages) {
  return tile % stages;
}

// The tile is a template argument below, not a function argument: device code may not bind
// a reference to (copy) a constexpr class object such as a kernel's static `Tile` member.

//! Warp `warp`'s row / column in the warps_m x warps_n warp grid of a block.
template <GemmTile Tile_>
SPIKEQUANT_HOST_DEVICE constexpr int warp_row(int warp) {
  return warp / Tile_.warps_n;
}
template <GemmTile Tile_>
SPIKEQUANT_HOST_DEVICE constexpr int warp_col(int warp) {
  return warp % Tile_.warps_n;
}

//! Byte offset inside a slot's A tile of the row address `lane` passes to ldmatrix.x4 for
//! m16 tile `i` of warp `warp`, at byte `k_byte` of the tile rows (a multiple of 32: 32
//! int8 for mma.m16n8k32, 16 halves for mma.m16n8k16). The four 8x8 (16-bit) matrices are
//! (rows 0-7, bytes 0-15), (rows 8-15, bytes 0-15), (rows 0-7, bytes 16-31), (rows 8-15,
//! bytes 16-31), which are exactly the A fragment registers a[0..3] of both mma shapes:
//! lane l addresses row l % 16, byte (l / 16) * 16.
template <GemmTile Tile_>
SPIKEQUANT_HOST_DEVICE constexpr int
ldmatrix_a_offset(int pitch, int warp, int i, int k_byte, int lane) {
  int const row = warp_row<Tile_>(warp) * (Tile_.block_m / Tile_.warps_m) + i * 16 + lane % 16;
  return row * pitch + k_byte + (lane / 16) * 16;
}

//! Byte offset inside a slot's B tile (N rows of K int8) of the row address `lane` passes to
//! ldmatrix.x4 for the n8 tiles j and j + 1 (j even) of warp `warp` at byte `k_byte` (a
//! multiple of 32). Matrices: (n 0-7, k 0-15), (n 0-7, k 16-31), (n 8-15, k 0-15), (n 8-15,
//! k 16-31), so r[0], r[1] are b[0], b[1] of mma.m16n8k32 for n-tile j and r[2], r[3] those of
//! n-tile j + 1: lane l addresses row (l % 8) + (l / 16) * 8, byte ((l / 8) % 2) * 16.
template <GemmTile Tile_>
SPIKEQUANT_HOST_DEVICE constexpr int
ldmatrix_b_pair_offset(int pitch, int warp, int j, int k_byte, int lane) {
  int const row =
      warp_col<Tile_>(warp) * (Tile_.block_n / Tile_.warps_n) + j * 8 + lane % 8 + (lane / 16) * 8;
  return row * pitch + k_byte + ((lane / 8) % 2) * 16;
}

//! W8A16: byte offset inside a slot's B tile (N rows of K int8) of the two int8 weights lane
//! (g = lane / 4, t = lane % 4) loads for b[0] of mma.m16n8k16 (f16 / bf16), n-tile j of
//! warp `warp`, k step starting at byte `k_byte`: w[n = g][k = 2t, 2t + 1] (low byte: lower
//! k). b[1] (k = 2t + 8, 2t + 9) is kW8B1Offset bytes further.
template <GemmTile Tile_>
SPIKEQUANT_HOST_DEVICE constexpr int w8_b_offset(int pitch, int warp, int j, int k_byte, int lane) {
  int const row = warp_col<Tile_>(warp) * (Tile_.block_n / Tile_.warps_n) + j * 8 + lane / 4;
  return row * pitch + k_byte + 2 * (lane % 4);
}
inline constexpr int kW8B1Offset = 8;

//! Output row / column of accumulator register 0 of the warp's first m16n8 tile held by
//! `lane` of warp `warp` in block (block_m_idx, block_n_idx).
template <GemmTile Tile_>
SPIKEQUANT_HOST_DEVICE constexpr int acc_row0(int block_m_idx, int warp, int lane) {
  return block_m_idx * Tile_.block_m + warp_row<Tile_>(warp) * (Tile_.block_m / Tile_.warps_m) +
         lane / 4;
}
template <GemmTile Tile_>
SPIKEQUANT_HOST_DEVICE constexpr int acc_col0(int block_n_idx, int warp, int lane) {
  return block_n_idx * Tile_.block_n + warp_col<Tile_>(warp) * (Tile_.block_n / Tile_.warps_n) +
         2 * (lane % 4);
}
//! Row / column offset of accumulator register r (0..3) of the warp's m16 tile i / n8 tile j
//! from register 0 of tile (0, 0). mma.m16n8k* accumulators (g = lane / 4, t = lane % 4):
//! d[0] = D[g][2t], d[1] = D[g][2t + 1], d[2] = D[g + 8][2t], d[3] = D[g + 8][2t + 1], so
//! registers (0, 1) and (2, 3) are column pairs of one row (the kernels store them together).
SPIKEQUANT_HOST_DEVICE constexpr int acc_row_offset(int i, int r) {
  return i * 16 + (r / 2) * 8;
}
SPIKEQUANT_HOST_DEVICE constexpr int acc_col_offset(int j, int r) {
  return j * 8 + r % 2;
}

}  // namespace spikequant::v0::cuda::detail
