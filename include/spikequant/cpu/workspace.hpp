// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Scratch memory the CPU reference reuses across calls, so that a linear layer run
//! thousands of times (a perplexity evaluation) allocates once instead of on every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace spikequant::inline v0::cpu {

//! Buffers for gemm_s8s8s32, gemm_dequant, linear_w8a8 and linear_w8a16. Each function uses
//! its own members, so one workspace serves a whole call chain (linear -> gemm_dequant -> gemm).
//! - Contents between calls mean nothing; a buffer only grows, to the largest size asked.
//! - Not thread-safe: one workspace per thread. The overloads without a Workspace argument
//!   use thread_workspace().
struct Workspace {
  std::vector<std::int16_t> a16;        //!< gemm_s8s8s32: a K-block of A widened to int16
  std::vector<std::int16_t> b16;        //!< gemm_s8s8s32: a K-block of B rows widened to int16
  std::vector<std::int32_t> acc;        //!< gemm_dequant: the (M, N) int32 accumulator
  std::vector<std::int8_t> act_codes;   //!< linear_w8a8: the quantized activation (M, K)
  std::vector<float> act_scales;        //!< linear_w8a8: its scales (M or 1)
  std::vector<float> weight_codes_f32;  //!< linear_w8a16: the int8 weight codes as float (N, K)

  //! The first n elements of `buf`, grown (never shrunk) to hold them.
  template <class T>
  static std::span<T> take(std::vector<T>& buf, std::int64_t n) {
    auto const size = static_cast<std::size_t>(n);
    if (buf.size() < size) {
      buf.resize(size);
    }
    return {buf.data(), size};
  }
};

//! The calling thread's workspace. Its buffers keep their largest size until the thread
//! exits; pass your own Workspace to control that memory.
inline Workspace& thread_workspace() {
  thread_local Workspace ws;
  return ws;
}

}  // namespace spikequant::v0::cpu
