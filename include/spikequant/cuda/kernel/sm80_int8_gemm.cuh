// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file sm_80+ INT8 tensor-core GEMM (mma.sync m16n8k32 s8 -> s32, multi-stage cp.async,
//! ldmatrix) with the dequantization epilogue fused: the int32 matrix never reaches memory.
//!
//! Data flow of one block (tile BM x BN, K stepped by BK):
//!   global --cp.async 16 B, zero-filled outside (M|N, K)--> shared (Stages ring, padded rows)
//!   shared --ldmatrix.x4--> registers --mma.sync m16n8k32--> int32 accumulators (registers)
//!   accumulators --dequant_value (fp32, no FMA)--> fp32/fp16/bf16 global, or raw int32.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/arch/sm80_mma.cuh"
#include "spikequant/cuda/device/gemm_arguments.hpp"
#include "spikequant/cuda/kernel/dequant_epilogue.cuh"
#include "spikequant/cuda/kernel/sm80_gemm_common.cuh"
#include "spikequant/cuda/kernel/sm80_gemm_index.hpp"
#include "spikequant/cuda/tuning/int8_gemm_policy.hpp"

#include <cstddef>
#include <cstdint>

namespace spikequant::inline v0::cuda {

//! The INT8 GEMM kernel for one tile shape: d (M, N) = epilogue(a (M, K) * b (N, K)^T).
//! Warp w = (warp_m, warp_n) owns a (BM / warps_m) x (BN / warps_n) sub-tile, computed as
//! kMmaM x kMmaN mma.m16n8k32 tiles per 32-wide K step.
template <GemmTile Tile_>
struct Sm80Int8GemmKernel {
  static constexpr GemmTile Tile = Tile_;
  static constexpr int kThreads = Tile.warps_m * Tile.warps_n * 32;
  static constexpr int kWarpTileM = Tile.block_m / Tile.warps_m;
  static constexpr int kWarpTileN = Tile.block_n / Tile.warps_n;
  static constexpr int kMmaM = kWarpTileM / 16;  // m16 tiles per warp
  static constexpr int kMmaN = kWarpTileN / 8;   // n8 tiles per warp
  static constexpr detail::Sm80GemmSmemLayout kLayout = detail::sm80_gemm_smem_layout(Tile, 1);
  static constexpr int kPitch = kLayout.pitch_a;  // bytes per smem row (A and B alike)
  static constexpr int kStageBytesA = kLayout.stage_bytes_a;
  static constexpr int kStageBytes = kLayout.stage_bytes;
  static constexpr int kSmemBytes = kLayout.smem_bytes;
  static constexpr std::size_t kSharedBytes = static_cast<std::size_t>(kSmemBytes);

  static_assert(Tile.stages >= 2, "a cp.async pipeline needs at least 2 stages");
  static_assert(Tile.block_k % 32 == 0, "block_k steps by the mma K of 32");
  static_assert(kWarpTileM % 16 == 0, "warp tile M must be a multiple of mma M = 16");
  static_assert(
      kWarpTileN % 16 == 0,
      "warp tile N must be a multiple of 16 (ldmatrix.x4 loads two n8 tiles)");
  static_assert(kLayout.pitch_b == kPitch, "A and B rows both hold block_k int8");
  static_assert((kPitch / 16) % 2 == 1, "odd 16-byte chunks per row keep ldmatrix conflict-free");

  struct Params {
    int m = 0;
    int n = 0;
    int k = 0;
    std::int8_t const* a = nullptr;  // (M, K) row-major
    std::int64_t lda = 0;
    std::int8_t const* b = nullptr;  // (N, K) row-major
    std::int64_t ldb = 0;
    void* d = nullptr;  // (M, N) row-major, d_type
    std::int64_t ldd = 0;
    GemmElement d_type = GemmElement::kInt32;
    bool pair_store = false;  // ldd even and d 2-element aligned: store column pairs at once
    DequantParams epilogue{};
  };

  static Params to_underlying_arguments(Int8GemmArguments const& args) {
    Params p;
    p.m = static_cast<int>(args.m);
    p.n = static_cast<int>(args.n);
    p.k = static_cast<int>(args.k);
    p.a = args.a;
    p.lda = args.lda;
    p.b = args.b;
    p.ldb = args.ldb;
    p.d = args.d;
    p.ldd = args.ldd;
    p.d_type = args.d_type;
    p.pair_store =
        args.ldd % 2 == 0 && detail::gemm_aligned(args.d, 2 * element_bytes(args.d_type));
    if (args.d_type != GemmElement::kInt32) {
      p.epilogue = DequantParams::from(args.epilogue);
    }
    return p;
  }

  static dim3 grid(Int8GemmArguments const& args) {
    return dim3(
        static_cast<unsigned>((args.m + Tile.block_m - 1) / Tile.block_m),
        static_cast<unsigned>((args.n + Tile.block_n - 1) / Tile.block_n));
  }

  SPIKEQUANT_DEVICE void
  load_stage(Params const& p, std::uint32_t stage, int m0, int n0, int k0, int tid) const {
    detail::load_tile_async<Tile.block_m, Tile.block_k, kThreads>(
        stage, reinterpret_cast<char const*>(p.a), p.lda, m0, p.m, k0, p.k, tid);
    detail::load_tile_async<Tile.block_n, Tile.block_k, kThreads>(
        stage + kStageBytesA, reinterpret_cast<char const*>(p.b), p.ldb, n0, p.n, k0, p.k, tid);
  }

  //! Stores the accumulator pair (row, col), (row, col + 1) as T; col is even.
  template <GemmElement T>
  SPIKEQUANT_DEVICE void
  store_pair(Params const& p, int row, int col, std::int32_t v0, std::int32_t v1) const {
    if (row >= p.m || col >= p.n) {
      return;
    }
    bool const both = col + 1 < p.n;
    std::int64_t const i = static_cast<std::int64_t>(row) * p.ldd + col;
    if constexpr (T == GemmElement::kInt32) {
      auto* d = static_cast<std::int32_t*>(p.d);
      if (both && p.pair_store) {
        *reinterpret_cast<int2*>(d + i) = make_int2(v0, v1);
      } else {
        d[i] = v0;
        if (both) {
          d[i + 1] = v1;
        }
      }
    } else {
      float const f0 = dequant_value<T>(v0, row, col, p.epilogue);
      if (both) {
        float const f1 = dequant_value<T>(v1, row, col + 1, p.epilogue);
        if (p.pair_store) {
          detail::store_pair_from_float<T>(p.d, i, f0, f1);
        } else {
          detail::store_from_float<T>(p.d, i, f0);
          detail::store_from_float<T>(p.d, i + 1, f1);
        }
      } else {
        detail::store_from_float<T>(p.d, i, f0);
      }
    }
  }

  //! Writes the warp's accumulators as T (detail::for_each_accumulator_pair), one compiled
  //! copy per output type.
  template <GemmElement T>
  SPIKEQUANT_DEVICE void write_tile(
      Params const& p, std::int32_t const (&acc)[kMmaM][kMmaN][4], int row0, int col0) const {
    detail::for_each_accumulator_pair(
        acc, row0, col0, [&](int row, int col, std::int32_t v0, std::int32_t v1) {
          store_pair<T>(p, row, col, v0, v1);
        });
  }

  //! One thread of block (blockIdx.x = M tile, blockIdx.y = N tile); the generic entry
  //! cuda::device_kernel calls it with the launch's dynamic shared memory.
  SPIKEQUANT_DEVICE void operator()(Params const& p, char* smem) const {
    int const block_m_idx = static_cast<int>(blockIdx.x);
    int const block_n_idx = static_cast<int>(blockIdx.y);
    int const tid = static_cast<int>(threadIdx.x);
    int const lane = tid % 32;
    int const warp = tid / 32;
    int const m0 = block_m_idx * Tile.block_m;
    int const n0 = block_n_idx * Tile.block_n;

    std::int32_t acc[kMmaM][kMmaN][4];
    detail::zero_accumulators(acc);
    detail::sm80_multistage_mainloop<Tile.stages>(
        p.k,
        Tile.block_k,
        arch::smem_address(smem),
        kStageBytes,
        [&](std::uint32_t slot, int k0) { load_stage(p, slot, m0, n0, k0, tid); },
        [&](std::uint32_t stage) {
    // ldmatrix row addresses and fragment order: detail::ldmatrix_a_offset /
    // ldmatrix_b_pair_offset (sm80_gemm_index.hpp).
#pragma unroll
          for (int ks = 0; ks < Tile.block_k / 32; ++ks) {
            std::uint32_t a_frag[kMmaM][4];
            std::uint32_t b_frag[kMmaN][2];
#pragma unroll
            for (int i = 0; i < kMmaM; ++i) {
              arch::ldmatrix_x4(
                  a_frag[i],
                  stage + static_cast<std::uint32_t>(
                              detail::ldmatrix_a_offset<Tile>(kPitch, warp, i, ks * 32, lane)));
            }
#pragma unroll
            for (int j = 0; j < kMmaN; j += 2) {
              std::uint32_t r[4];
              arch::ldmatrix_x4(
                  r,
                  stage + static_cast<std::uint32_t>(
                              kStageBytesA + detail::ldmatrix_b_pair_offset<Tile>(
                                                 kPitch, warp, j, ks * 32, lane)));
              b_frag[j][0] = r[0];
              b_frag[j][1] = r[1];
              b_frag[j + 1][0] = r[2];
              b_frag[j + 1][1] = r[3];
            }
#pragma unroll
            for (int i = 0; i < kMmaM; ++i) {
#pragma unroll
              for (int j = 0; j < kMmaN; ++j) {
                arch::mma_s8_16x8x32(acc[i][j], a_frag[i], b_frag[j]);
              }
            }
          }
        });

    // Epilogue straight from registers, one compiled copy per output type.
    int const row0 = detail::acc_row0<Tile>(block_m_idx, warp, lane);
    int const col0 = detail::acc_col0<Tile>(block_n_idx, warp, lane);
    if (p.d_type == GemmElement::kInt32) {
      write_tile<GemmElement::kInt32>(p, acc, row0, col0);
    } else {
      detail::dispatch_float_element(
          p.d_type, [&](auto type) { write_tile<decltype(type)::value>(p, acc, row0, col0); });
    }
  }
};

}  // namespace spikequant::v0::cuda
