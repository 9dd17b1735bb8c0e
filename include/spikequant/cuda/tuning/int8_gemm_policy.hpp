// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Tile shapes of the sm_80 INT8 and W8A16 GEMMs: plain aggregates and constexpr selectors.
#pragma once

#include <cstdint>
#include <ostream>

namespace spikequant::inline v0::cuda {

//! Tile shape of one thread block of a tensor-core GEMM. A structural aggregate: kernels take
//! it as a non-type template parameter (`Sm80Int8GemmKernel<kSm80Int8TileLarge>`).
//! New fields go only at the end.
struct GemmTile {
  int block_m = 0;  //!< rows of C per block (multiple of 16 * warps_m)
  int block_n = 0;  //!< columns of C per block (multiple of 16 * warps_n)
  int block_k = 0;  //!< K elements per pipeline stage (multiple of 32)
  int warps_m = 0;  //!< warps along M; the block has warps_m * warps_n warps
  int warps_n = 0;  //!< warps along N
  int stages = 0;   //!< cp.async pipeline depth (>= 2)

  friend constexpr bool operator==(GemmTile const&, GemmTile const&) = default;
  friend std::ostream& operator<<(std::ostream& os, GemmTile const& t) {
    return os << t.block_m << 'x' << t.block_n << 'x' << t.block_k << "_w" << t.warps_m << 'x'
              << t.warps_n << "_s" << t.stages;
  }
};

// Shapes below are design leads, not measurements (no GPU was available when they were set):
// replace each comment with "H100 SXM: <TOPS> @ M=.., N=.., K=.." once bench/cuda/gemm_bench runs.
//
// Large INT8: 8 warps (2 x 4), warp tile 64 x 32 = 4 x 4 mma.m16n8k32 per k32 step: 6
// ldmatrix.x4 feed 16 mma. Shared memory per stage (128 + 128) rows x (64 + 16 pad) bytes
// = 20 KiB; 4 stages = 80 KiB, so two blocks fit an SM on A100 (164 KiB) and H100 (228 KiB).
inline constexpr GemmTile kSm80Int8TileLarge{
    .block_m = 128, .block_n = 128, .block_k = 64, .warps_m = 2, .warps_n = 4, .stages = 4};
// Small INT8 (decode, M <= 256): 32 x 32 blocks give N / 32 blocks per 32 tokens, enough to
// cover 132 SMs at N = 4096 where 128 x 128 would launch 32 blocks. 4 warps, warp tile 16 x 16;
// block_k 128 keeps 4 stages x 8 KiB of weights in flight per block.
inline constexpr GemmTile kSm80Int8TileSmall{
    .block_m = 32, .block_n = 32, .block_k = 128, .warps_m = 2, .warps_n = 2, .stages = 4};

// W8A16: fp16/bf16 activations (2 bytes per K element), INT8 weights. Large: per stage
// 128 x (128 + 16) + 128 x (64 + 16) bytes = 28 KiB; 3 stages = 84 KiB.
inline constexpr GemmTile kSm80W8A16TileLarge{
    .block_m = 128, .block_n = 128, .block_k = 64, .warps_m = 2, .warps_n = 4, .stages = 3};
inline constexpr GemmTile kSm80W8A16TileSmall{
    .block_m = 32, .block_n = 32, .block_k = 64, .warps_m = 2, .warps_n = 2, .stages = 4};

//! Picks the INT8 GEMM tile for a problem. `cc` is major * 10 + minor (80, 86, 89, 90).
//! - M <= 256 (decode and short prompts): the small tile, for enough blocks to fill the GPU.
//! - Otherwise the large tile, for operand reuse.
constexpr GemmTile select_int8_gemm_tile(int cc, std::int64_t m, std::int64_t n) {
  (void)cc;
  (void)n;
  return m <= 256 ? kSm80Int8TileSmall : kSm80Int8TileLarge;
}

//! Picks the W8A16 GEMM tile; same rule as select_int8_gemm_tile.
constexpr GemmTile select_w8a16_gemm_tile(int cc, std::int64_t m, std::int64_t n) {
  (void)cc;
  (void)n;
  return m <= 256 ? kSm80W8A16TileSmall : kSm80W8A16TileLarge;
}

}  // namespace spikequant::v0::cuda
