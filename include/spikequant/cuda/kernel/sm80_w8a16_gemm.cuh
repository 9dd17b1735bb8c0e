// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file sm_80+ W8A16 tensor-core GEMM: fp16/bf16 activations x INT8 per-channel weights,
//! weights converted to fp16/bf16 in registers on their way from shared memory to the mma.
//!
//! Data flow of one block (tile BM x BN, K stepped by BK):
//!   x (fp16/bf16) and w (int8) --cp.async 16 B, zero-filled outside--> shared (padded rows)
//!   x: shared --ldmatrix.x4--> A fragments
//!   w: shared --ld.shared.u16 (2 int8)--> int8 -> float -> f16x2 / bf16x2 (exact) --> B fragments
//!   mma.sync m16n8k16 (fp32 accumulate) --> acc * w_scale[n] (+ bias[n]) --> f32/f16/bf16
//! No dequantized copy of the weight exists anywhere in memory. Conversion is exact: every
//! int8 value is representable in fp16 and bf16, and the products are exact in fp32.
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
#include <cstring>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace spikequant::inline v0::cuda {

namespace detail {
//! Two int8 weights (low byte: lower k) -> a packed f16x2 / bf16x2 register, exactly.
template <bool Bf16_>
SPIKEQUANT_DEVICE std::uint32_t int8x2_to_half2(std::uint32_t two_bytes) {
  auto const lo = static_cast<float>(static_cast<std::int8_t>(two_bytes & 0xffu));
  auto const hi = static_cast<float>(static_cast<std::int8_t>((two_bytes >> 8) & 0xffu));
  if constexpr (Bf16_) {
    __nv_bfloat162 const h = __floats2bfloat162_rn(lo, hi);  // .x = lo goes to the low half
    std::uint32_t bits;
    memcpy(&bits, &h, sizeof(bits));  // a register move after optimization, no aliasing UB
    return bits;
  } else {
    __half2 const h = __floats2half2_rn(lo, hi);
    std::uint32_t bits;
    memcpy(&bits, &h, sizeof(bits));
    return bits;
  }
}
}  // namespace detail

//! The W8A16 GEMM kernel for one tile shape and activation type.
//! @tparam Tile_ block / warp tile and pipeline depth
//! @tparam Bf16_ false: fp16 activations; true: bf16 activations
template <GemmTile Tile_, bool Bf16_>
struct Sm80W8A16GemmKernel {
  static constexpr GemmTile Tile = Tile_;
  static constexpr int kThreads = Tile.warps_m * Tile.warps_n * 32;
  static constexpr int kWarpTileM = Tile.block_m / Tile.warps_m;
  static constexpr int kWarpTileN = Tile.block_n / Tile.warps_n;
  static constexpr int kMmaM = kWarpTileM / 16;
  static constexpr int kMmaN = kWarpTileN / 8;
  static constexpr detail::Sm80GemmSmemLayout kLayout = detail::sm80_gemm_smem_layout(Tile, 2);
  static constexpr int kPitchA = kLayout.pitch_a;  // 2-byte x
  static constexpr int kPitchB = kLayout.pitch_b;  // 1-byte w
  static constexpr int kStageBytesA = kLayout.stage_bytes_a;
  static constexpr int kStageBytes = kLayout.stage_bytes;
  static constexpr int kSmemBytes = kLayout.smem_bytes;
  static constexpr std::size_t kSharedBytes = static_cast<std::size_t>(kSmemBytes);

  static_assert(Tile.stages >= 2, "a cp.async pipeline needs at least 2 stages");
  static_assert(Tile.block_k % 16 == 0, "block_k steps by the mma K of 16");
  static_assert(kWarpTileM % 16 == 0 && kWarpTileN % 8 == 0, "warp tile must hold whole mma tiles");
  static_assert((kPitchA / 16) % 2 == 1, "odd 16-byte chunks per row keep ldmatrix conflict-free");
  static_assert(kPitchB % 16 == 0, "weight rows stay 16-byte aligned for cp.async");

  struct Params {
    int m = 0;
    int n = 0;
    int k = 0;
    void const* x = nullptr;  // (M, K) row-major fp16 / bf16
    std::int64_t ldx = 0;
    std::int8_t const* w = nullptr;  // (N, K) row-major int8
    std::int64_t ldw = 0;
    float const* w_scales = nullptr;  // N
    float const* bias = nullptr;      // N or nullptr
    void* d = nullptr;                // (M, N) row-major, d_type
    std::int64_t ldd = 0;
    GemmElement d_type = GemmElement::kFloat16;
    bool pair_store = false;
  };

  static Params to_underlying_arguments(W8A16GemmArguments const& args) {
    Params p;
    p.m = static_cast<int>(args.m);
    p.n = static_cast<int>(args.n);
    p.k = static_cast<int>(args.k);
    p.x = args.x;
    p.ldx = args.ldx;
    p.w = args.w;
    p.ldw = args.ldw;
    p.w_scales = args.w_scales;
    p.bias = args.bias;
    p.d = args.d;
    p.ldd = args.ldd;
    p.d_type = args.d_type;
    p.pair_store =
        args.ldd % 2 == 0 && detail::gemm_aligned(args.d, 2 * element_bytes(args.d_type));
    return p;
  }

  static dim3 grid(W8A16GemmArguments const& args) {
    return dim3(
        static_cast<unsigned>((args.m + Tile.block_m - 1) / Tile.block_m),
        static_cast<unsigned>((args.n + Tile.block_n - 1) / Tile.block_n));
  }

  SPIKEQUANT_DEVICE void
  load_stage(Params const& p, std::uint32_t stage, int m0, int n0, int k0, int tid) const {
    // x in bytes: row pitch ldx * 2, K limit k * 2 (a multiple of 32 since K % 16 == 0).
    detail::load_tile_async<Tile.block_m, Tile.block_k * 2, kThreads>(
        stage,
        static_cast<char const*>(p.x),
        p.ldx * 2,
        m0,
        p.m,
        std::int64_t{k0} * 2,
        std::int64_t{p.k} * 2,
        tid);
    detail::load_tile_async<Tile.block_n, Tile.block_k, kThreads>(
        stage + kStageBytesA, reinterpret_cast<char const*>(p.w), p.ldw, n0, p.n, k0, p.k, tid);
  }

  SPIKEQUANT_DEVICE float finish(Params const& p, float acc, int col) const {
    float v = __fmul_rn(acc, p.w_scales[col]);
    if (p.bias != nullptr) {
      v = __fadd_rn(v, p.bias[col]);
    }
    return v;
  }

  template <GemmElement T>
  SPIKEQUANT_DEVICE void store_pair(Params const& p, int row, int col, float a0, float a1) const {
    if (row >= p.m || col >= p.n) {
      return;
    }
    std::int64_t const i = static_cast<std::int64_t>(row) * p.ldd + col;
    float const f0 = finish(p, a0, col);
    if (col + 1 < p.n) {
      float const f1 = finish(p, a1, col + 1);
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

  //! Writes the warp's accumulators as T (detail::for_each_accumulator_pair).
  template <GemmElement T>
  SPIKEQUANT_DEVICE void
  write_tile(Params const& p, float const (&acc)[kMmaM][kMmaN][4], int row0, int col0) const {
    detail::for_each_accumulator_pair(acc, row0, col0, [&](int row, int col, float v0, float v1) {
      store_pair<T>(p, row, col, v0, v1);
    });
  }

  //! One thread of block (blockIdx.x = M tile, blockIdx.y = N tile), called by the generic
  //! entry cuda::device_kernel with the launch's dynamic shared memory.
  SPIKEQUANT_DEVICE void operator()(Params const& p, char* smem) const {
    int const block_m_idx = static_cast<int>(blockIdx.x);
    int const block_n_idx = static_cast<int>(blockIdx.y);
    int const tid = static_cast<int>(threadIdx.x);
    int const lane = tid % 32;
    int const warp = tid / 32;
    int const m0 = block_m_idx * Tile.block_m;
    int const n0 = block_n_idx * Tile.block_n;

    float acc[kMmaM][kMmaN][4];
    detail::zero_accumulators(acc);
    detail::sm80_multistage_mainloop<Tile.stages>(
        p.k,
        Tile.block_k,
        arch::smem_address(smem),
        kStageBytes,
        [&](std::uint32_t slot, int k0) { load_stage(p, slot, m0, n0, k0, tid); },
        [&](std::uint32_t stage) {
    // A (16 x 16 halves = 16 rows x 32 bytes) has the byte pattern of the INT8 kernel's
    // 16 x 32 int8 tile (detail::ldmatrix_a_offset). B of n-tile j: lane (g, t) needs
    // w[n = g][k = 2t, 2t+1] and [k = 2t+8, 2t+9], two 2-byte loads (detail::w8_b_offset).
    // With a pitch of BK + 16 bytes the 8 rows g hit distinct banks: no conflicts.
#pragma unroll
          for (int ks = 0; ks < Tile.block_k / 16; ++ks) {
            std::uint32_t a_frag[kMmaM][4];
            std::uint32_t b_frag[kMmaN][2];
#pragma unroll
            for (int i = 0; i < kMmaM; ++i) {
              arch::ldmatrix_x4(
                  a_frag[i],
                  stage + static_cast<std::uint32_t>(
                              detail::ldmatrix_a_offset<Tile>(kPitchA, warp, i, ks * 32, lane)));
            }
#pragma unroll
            for (int j = 0; j < kMmaN; ++j) {
              std::uint32_t const addr =
                  stage +
                  static_cast<std::uint32_t>(
                      kStageBytesA + detail::w8_b_offset<Tile>(kPitchB, warp, j, ks * 16, lane));
              b_frag[j][0] = detail::int8x2_to_half2<Bf16_>(arch::ld_shared_u16(addr));
              b_frag[j][1] =
                  detail::int8x2_to_half2<Bf16_>(arch::ld_shared_u16(addr + detail::kW8B1Offset));
            }
#pragma unroll
            for (int i = 0; i < kMmaM; ++i) {
#pragma unroll
              for (int j = 0; j < kMmaN; ++j) {
                arch::mma_f32_16x8x16<Bf16_>(acc[i][j], a_frag[i], b_frag[j]);
              }
            }
          }
        });

    int const row0 = detail::acc_row0<Tile>(block_m_idx, warp, lane);
    int const col0 = detail::acc_col0<Tile>(block_n_idx, warp, lane);
    detail::dispatch_float_element(
        p.d_type, [&](auto type) { write_tile<decltype(type)::value>(p, acc, row0, col0); });
  }
};

}  // namespace spikequant::v0::cuda
