// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Block-wide all-reduce: a shuffle butterfly in each warp, the warp totals through shared
//! memory, folded in warp order by every thread. The project's own (not cub::BlockReduce) so the
//! device and the SIMT emulator run the same code in the same order: bit-identical results.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/arch/shared.cuh"

namespace spikequant::inline v0::cuda::kernel {

//! Sum, as a reduction operator.
struct SumOp {
  template <class T>
  SPIKEQUANT_HOST_DEVICE T operator()(T a, T b) const {
    return a + b;
  }
};

//! All-reduce of one T per thread over a block of Threads_ threads (a multiple of 32).
//! - Every thread must call it (it contains two __syncthreads); every thread gets the result.
//! - `op` must be commutative (float + and max are): the butterfly then leaves the same
//!   value in every lane.
template <class T, int Threads_>
struct BlockReduce {
  static_assert(Threads_ % 32 == 0 && Threads_ > 0, "whole warps only");
  static constexpr int kWarps = Threads_ / 32;

  struct TempStorage {
    T warp_total[kWarps];
  };

  template <class Op>
  SPIKEQUANT_DEVICE static T all_reduce(TempStorage& storage, T v, Op op, int tid) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) {
      v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    if (tid % 32 == 0) {
      arch::store_shared(&storage.warp_total[tid / 32], v);
    }
    __syncthreads();
    T total = arch::load_shared(&storage.warp_total[0]);
#pragma unroll
    for (int w = 1; w < kWarps; ++w) {
      total = op(total, arch::load_shared(&storage.warp_total[w]));
    }
    __syncthreads();  // storage may be reused by the next reduction
    return total;
  }
};

}  // namespace spikequant::v0::cuda::kernel
