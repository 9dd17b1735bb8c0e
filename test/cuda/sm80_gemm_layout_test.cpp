// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The sm_80 GEMM shared-memory layout of every shipped tile policy (host-only,
//! constexpr arithmetic): kept beside the emulated kernel tests because it also covers the
//! limits (227 KiB per block) for tiles a test shape might not launch.
#include "spikequant/cuda/kernel/sm80_gemm_index.hpp"
#include "spikequant/cuda/tuning/int8_gemm_policy.hpp"

#include <doctest/doctest.h>

namespace {
namespace sqc = spikequant::cuda;
namespace sqd = spikequant::cuda::detail;
}  // namespace

TEST_CASE("Sm80 GEMM shared-memory layout: 16-byte rows, odd chunk pitch, slots tile the ring") {
  struct Case {
    sqc::GemmTile tile;
    int a_bytes;
  };
  for (Case const c :
       {Case{sqc::kSm80Int8TileLarge, 1},
        Case{sqc::kSm80Int8TileSmall, 1},
        Case{sqc::kSm80W8A16TileLarge, 2},
        Case{sqc::kSm80W8A16TileSmall, 2}}) {
    sqc::GemmTile const tile = c.tile;
    int const a_bytes = c.a_bytes;
    CAPTURE(tile);
    sqd::Sm80GemmSmemLayout const l = sqd::sm80_gemm_smem_layout(tile, a_bytes);
    CHECK(l.pitch_a == tile.block_k * a_bytes + 16);
    CHECK(l.pitch_b == tile.block_k + 16);
    CHECK((l.pitch_a / 16) % 2 == 1);  // conflict-free ldmatrix phases
    CHECK(l.pitch_a % 16 == 0);
    CHECK(l.pitch_b % 16 == 0);
    CHECK(l.stage_bytes_a % 16 == 0);
    CHECK(l.stage_bytes == l.stage_bytes_a + l.stage_bytes_b);
    CHECK(l.smem_bytes == tile.stages * l.stage_bytes);
    CHECK(l.smem_bytes <= 227 * 1024);  // sm_90 opt-in maximum per block
  }
}
