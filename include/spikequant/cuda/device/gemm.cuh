// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host entry of the sm_80+ INT8 tensor-core GEMM with fused dequantization:
//! d (M, N) = ((a (M, K) * b (N, K)^T) * act_scale * weight_scale + bias) + residual.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/status.hpp"
#include "spikequant/cuda/device/gemm_arguments.hpp"
#include "spikequant/cuda/kernel/sm80_gemm_common.cuh"
#include "spikequant/cuda/kernel/sm80_int8_gemm.cuh"
#include "spikequant/cuda/runtime/check.cuh"
#include "spikequant/cuda/runtime/launch.cuh"
#include "spikequant/cuda/tuning/int8_gemm_policy.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cuda_runtime.h>

namespace spikequant::inline v0::cuda {

namespace detail {
//! Compute capability (major * 10 + minor) of the current device, queried once per device
//! (kept off the hot path of run); throws Error(kCuda).
inline int current_compute_capability() {
  int device = 0;
  SPIKEQUANT_CUDA_CHECK(cudaGetDevice(&device));
  static std::array<std::atomic<int>, 64> known{};  // 0: not queried yet
  bool const cacheable = device >= 0 && device < 64;
  if (cacheable) {
    if (int const cc = known[static_cast<std::size_t>(device)].load(std::memory_order_relaxed)) {
      return cc;
    }
  }
  int major = 0;
  int minor = 0;
  SPIKEQUANT_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  SPIKEQUANT_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  if (cacheable) {
    known[static_cast<std::size_t>(device)].store(major * 10 + minor, std::memory_order_relaxed);
  }
  return major * 10 + minor;
}

inline void require_sm80(int cc, char const* fn) {
  require(
      cc >= 80,
      ErrorKind::kUnsupported,
      fn,
      ": needs compute capability 8.0 or newer, device has ",
      cc / 10,
      ".",
      cc % 10);
}

inline void require_grid_y(std::int64_t n, int block_n, char const* fn) {
  require(
      (n + block_n - 1) / block_n <= 65535,
      ErrorKind::kUnsupported,
      fn,
      ": N = ",
      n,
      " needs more than 65535 column blocks of ",
      block_n);
}
//! The tile an sm_80 GEMM object runs: needs an sm_80+ device, takes `tile` when
//! `explicit_tile` or else `default_tile(cc)`, refuses tiles not in {large, small} and grids
//! taller than CUDA allows. Returns true for `large`. Throws Error (kUnsupported, kCuda).
template <class DefaultTile>
bool choose_sm80_tile(
    GemmTile tile,
    bool explicit_tile,
    GemmTile large,
    GemmTile small,
    std::int64_t n,
    DefaultTile&& default_tile,
    char const* fn) {
  int const cc = current_compute_capability();
  require_sm80(cc, fn);
  if (!explicit_tile) {
    tile = default_tile(cc);
  }
  require(
      tile == large || tile == small,
      ErrorKind::kUnsupported,
      fn,
      ": tile ",
      tile,
      " is not instantiated");
  require_grid_y(n, tile.block_n, fn);
  return tile == large;
}
}  // namespace detail

//! INT8 x INT8 GEMM on tensor cores (mma.sync, sm_80 and newer) with the dequantization
//! epilogue fused, or the raw int32 accumulator (d_type = kInt32).
//! - Deterministic: int32 accumulation is exact and order-independent; the epilogue is
//!   ((float(acc) * act_scale) * weight_scale + bias) + residual, each step rounded in fp32
//!   without FMA, so fp32 outputs equal cpu::dequant_epilogue bit for bit; f16 / bf16 outputs
//!   are that value rounded to nearest-even once.
//! - Preconditions (checked by can_implement, Error kShape / kAlignment / kInvalidArgument):
//!   K % 16 == 0; a, b 16-byte aligned with lda, ldb multiples of 16; d and residual aligned
//!   to their element type; residual has the output's element type.
//! - No workspace, no allocation; asynchronous on `stream`.
//!
//! Snippet:
//! @code
//! // example-begin int8-gemm
//! Int8GemmArguments args;
//! args.m = m; args.n = n; args.k = k;
//! args.a = a_codes; args.lda = k;          // (M, K) int8, device
//! args.b = w_codes; args.ldb = k;          // (N, K) int8, device
//! args.d = out; args.ldd = n; args.d_type = GemmElement::kFloat16;
//! args.epilogue = {act_scales, m, w_scales, n};  // per token x per channel
//! Int8Gemm::run(args, stream);
//! // example-end int8-gemm
//! @endcode
//!
//! Two ways to run: `Int8Gemm::run(args, stream)` checks and launches in one call; an
//! `Int8Gemm gemm(args)` object checks once (throwing), picks its tile once, and then
//! `gemm.run(stream)` only launches: no argument checks, no device queries, no attribute
//! calls (the form for a decode loop that repeats one shape).
class Int8Gemm {
public:
  using Arguments = Int8GemmArguments;
  using LargeKernel = Sm80Int8GemmKernel<kSm80Int8TileLarge>;
  using SmallKernel = Sm80Int8GemmKernel<kSm80Int8TileSmall>;

  //! Whether `args` can run (host-only checks; no CUDA calls); the reason when not.
  static Status can_implement(Arguments const& args) noexcept {
    return status_of([&] { can_implement_int8_gemm(args); });
  }
  //! can_implement, as an Error (kShape / kAlignment / kInvalidArgument / kUnsupported).
  static void check(Arguments const& args) { can_implement_int8_gemm(args); }

  //! Workspace bytes for `args`: always 0.
  static std::size_t get_workspace_size(Arguments const&) { return 0; }

  //! Tile select_int8_gemm_tile would use for `args` on a device of compute capability `cc`.
  static GemmTile default_tile(Arguments const& args, int cc) {
    return select_int8_gemm_tile(cc, args.m, args.n);
  }

  //! Checks `args` once and launches d = epilogue(a * b^T) on `stream` with the default tile.
  static void run(Arguments const& args, cudaStream_t stream) { Int8Gemm(args).run(stream); }

  //! Runs with an explicit tile (kSm80Int8TileLarge or kSm80Int8TileSmall); tests use it to
  //! cover both instantiations on every shape. Throws Error(kUnsupported) for other tiles.
  static void run_with_tile(Arguments const& args, GemmTile tile, cudaStream_t stream) {
    Int8Gemm(args, tile).run(stream);
  }

  //! Checks `args` (Error as check()), needs sm_80+, and fixes the default tile for them.
  explicit Int8Gemm(Arguments const& args)
      : Int8Gemm(args, GemmTile{}, false) {}
  //! The same with an explicit tile; Error(kUnsupported) for a tile that is not instantiated.
  Int8Gemm(Arguments const& args, GemmTile tile)
      : Int8Gemm(args, tile, true) {}

  //! Launches on `stream`; the arguments' pointers must still be valid.
  void run(cudaStream_t stream) const {
    if (large_) {
      cuda::launch<LargeKernel>(
          LargeKernel::grid(args_), LargeKernel::to_underlying_arguments(args_), stream);
    } else {
      cuda::launch<SmallKernel>(
          SmallKernel::grid(args_), SmallKernel::to_underlying_arguments(args_), stream);
    }
  }

  [[nodiscard]] GemmTile tile() const noexcept {
    return large_ ? kSm80Int8TileLarge : kSm80Int8TileSmall;
  }

private:
  Int8Gemm(Arguments const& args, GemmTile tile, bool explicit_tile)
      : args_(args) {
    check(args);
    large_ = detail::choose_sm80_tile(
        tile,
        explicit_tile,
        kSm80Int8TileLarge,
        kSm80Int8TileSmall,
        args.n,
        [&](int cc) { return default_tile(args, cc); },
        "sm80 int8 gemm");
  }

  Arguments args_;
  bool large_ = false;
};

}  // namespace spikequant::v0::cuda
