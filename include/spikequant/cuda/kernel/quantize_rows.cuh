// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file RowKernel: one thread block per row of an (M, K) activation; loads (and transforms)
//! the row once, reduces it, then writes INT8 codes + scales or floats. Quantize, GLU+quantize
//! and RMSNorm+quantize are this kernel with a different row Op.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/cuda/kernel/block_reduce.cuh"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <type_traits>

namespace spikequant::inline v0::cuda {

//! Activation element types the row kernels read: converted to float, then the shared core math.
template <class T>
concept RowElement =
    std::same_as<T, float> || std::same_as<T, __half> || std::same_as<T, __nv_bfloat16>;

//! Short type name for messages and benchmark names ("f32", "f16", "bf16").
template <RowElement T>
inline constexpr char const* element_name = std::same_as<T, float>
                                                ? "f32"
                                                : (std::same_as<T, __half> ? "f16" : "bf16");

//! What a row kernel writes.
enum class RowOutput {
  kPerTokenCodes,  //!< codes, and scales[row] = scale_from_absmax(absmax of the row)
  kAbsmax,         //!< nothing but atomicMax(row absmax) into one global word (per-tensor pass 1)
  kCodes,          //!< codes with one scale: static, or from that global word (per-tensor pass 2)
  kFloat,          //!< the float row values themselves (plain GLU / RMSNorm output)
};

//! Device-side description of a row kernel's outputs (unused members stay null).
struct RowOutputParams {
  std::int8_t* codes = nullptr;  // (rows, cols) int8, row stride ld_codes
  std::int64_t ld_codes = 0;
  float* scales = nullptr;  // kPerTokenCodes: rows floats; kCodes: 1 float or null
  float* values = nullptr;  // kFloat: (rows, cols) float, row stride ld_values
  std::int64_t ld_values = 0;
  //! kAbsmax: atomicMax target; kCodes: source of the scale when non-null. Holds the bit
  //! pattern of a non-negative float (or NaN), whose unsigned order equals the float order,
  //! so the global max is an order-independent (deterministic) integer atomicMax.
  unsigned int* absmax_bits = nullptr;
  float static_scale = 1.0f;  //!< kCodes with absmax_bits == null
};

namespace kernel {

SPIKEQUANT_DEVICE float to_float(float x) {
  return x;
}
SPIKEQUANT_DEVICE float to_float(__half x) {
  return __half2float(x);
}
SPIKEQUANT_DEVICE float to_float(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

//! N elements moved as one (N * sizeof(T))-byte access: 16 bytes gives ld/st.global.v4.
template <class T, int N>
struct alignas(sizeof(T) * N) Vec {
  T v[N];
};

//! Loads N consecutive T from `p` (aligned to N * sizeof(T)) as floats.
template <int N, class T>
SPIKEQUANT_DEVICE void load_float(T const* p, float (&out)[N]) {
  Vec<T, N> const v = *reinterpret_cast<Vec<T, N> const*>(p);
#pragma unroll
  for (int j = 0; j < N; ++j) {
    out[j] = to_float(v.v[j]);
  }
}

//! Reduction operator over absmax partials (NaN wins, as on the CPU).
struct AbsmaxCombineOp {
  SPIKEQUANT_HOST_DEVICE float operator()(float a, float b) const { return absmax_combine(a, b); }
};

//! Row Op of plain quantization: the staged value is the input converted to float.
//! A row Op provides
//! - `Params` and `kRowSumSquares` (true: the kernel reduces sum(v^2) in double per row first),
//! - `stage<N>(params, row, col, v)`: load N values starting at col (vector aligned when N > 1),
//! - `row_factor(params, sum_sq, cols)`: per-row float from the sum of squares,
//! - `finish<N>(params, factor, col, v)`: the final values from the staged ones.
template <RowElement T>
struct ConvertOp {
  using Element = T;
  static constexpr bool kRowSumSquares = false;
  struct Params {
    T const* x = nullptr;  // (rows, cols), row stride ld
    std::int64_t ld = 0;
  };
  template <int N>
  SPIKEQUANT_DEVICE static void
  stage(Params const& p, std::int64_t row, std::int64_t col, float (&v)[N]) {
    load_float<N>(p.x + row * p.ld + col, v);
  }
  SPIKEQUANT_DEVICE static float row_factor(Params const&, double, std::int64_t) { return 1.0f; }
  template <int N>
  SPIKEQUANT_DEVICE static void finish(Params const&, float, std::int64_t, float (&)[N]) {}
};

}  // namespace kernel

//! One block per row. Each thread stages up to kCacheFloats values of its row in registers
//! (vectors tid, tid + kThreads, ...); vectors past the cache and the scalar tail (cols not a
//! multiple of kVec) are staged again from global memory (L2) in each later pass.
//! - Passes: [sum of squares -> row factor] -> [absmax -> scale] -> write.
//! - kVec = 16 / sizeof(Element) for 16-byte loads (the host checks alignment), 1 for the
//!   scalar fallback used when a pointer or leading dimension is not aligned.
//! - Rounding is quantize_value(v, inverse_scale(scale)) from core/numeric.hpp, the same
//!   function the CPU reference calls, so codes and scales are bit-identical given equal v.
//! @tparam kCacheFloats_ registers per thread for the cached row (32: 8192 cached columns at
//!   256 threads; a starting point, not measured yet)
template <class Op_, RowOutput kOutput_, int kVec_, int kThreads_ = 256, int kCacheFloats_ = 32>
struct RowKernel {
  using Op = Op_;
  static constexpr RowOutput kOutput = kOutput_;
  static constexpr int kVec = kVec_;
  static constexpr int kThreads = kThreads_;
  static constexpr int kCacheVecs = kCacheFloats_ / kVec > 0 ? kCacheFloats_ / kVec : 1;

  struct Params {
    typename Op::Params op{};
    RowOutputParams out{};
    std::int64_t rows = 0;
    std::int64_t cols = 0;
  };

  using ReduceF = kernel::BlockReduce<float, kThreads>;
  using ReduceD = kernel::BlockReduce<double, kThreads>;
  struct SharedStorage {
    union {
      typename ReduceF::TempStorage f;
      typename ReduceD::TempStorage d;
    } reduce;
  };
  static constexpr std::size_t kSharedBytes = sizeof(SharedStorage);

  SPIKEQUANT_DEVICE void operator()(Params const& p, char* smem) const {
    run_row(p, *reinterpret_cast<SharedStorage*>(smem), blockIdx.x, static_cast<int>(threadIdx.x));
  }

  //! Processes row `row` with thread `tid` of kThreads.
  SPIKEQUANT_DEVICE static void
  run_row(Params const& p, SharedStorage& smem, std::int64_t row, int tid) {
    std::int64_t const nvec = p.cols / kVec;
    std::int64_t const tail = nvec * kVec;

    float cache[kCacheVecs][kVec];
#pragma unroll
    for (int i = 0; i < kCacheVecs; ++i) {
      std::int64_t const v = tid + static_cast<std::int64_t>(i) * kThreads;
      if (v < nvec) {
        Op::template stage<kVec>(p.op, row, v * kVec, cache[i]);
      }
    }
    auto for_cached = [&](auto&& f) {
#pragma unroll
      for (int i = 0; i < kCacheVecs; ++i) {
        std::int64_t const v = tid + static_cast<std::int64_t>(i) * kThreads;
        if (v < nvec) {
          f(v * kVec, cache[i]);
        }
      }
    };
    // Staged again on every pass: vectors past the cache, then the scalar tail.
    auto for_uncached = [&](float factor, bool finished, auto&& f) {
      for (std::int64_t v = tid + static_cast<std::int64_t>(kCacheVecs) * kThreads; v < nvec;
           v += kThreads) {
        float t[kVec];
        Op::template stage<kVec>(p.op, row, v * kVec, t);
        if (finished) {
          Op::finish(p.op, factor, v * kVec, t);
        }
        f(v * kVec, t);
      }
      for (std::int64_t c = tail + tid; c < p.cols; c += kThreads) {
        float t[1];
        Op::template stage<1>(p.op, row, c, t);
        if (finished) {
          Op::finish(p.op, factor, c, t);
        }
        f(c, t);
      }
    };

    float factor = 1.0f;
    if constexpr (Op::kRowSumSquares) {
      double ss = 0.0;
      auto acc = [&](std::int64_t, auto const& v) {
        for (float x : v) {
          ss += static_cast<double>(x) * static_cast<double>(x);
        }
      };
      for_cached(acc);
      for_uncached(1.0f, false, acc);
      // Every thread gets the same total, so each computes the same factor itself.
      ss = ReduceD::all_reduce(smem.reduce.d, ss, kernel::SumOp{}, tid);
      factor = Op::row_factor(p.op, ss, p.cols);
      for_cached([&](std::int64_t c, auto& v) { Op::finish(p.op, factor, c, v); });
    }

    float scale = 1.0f;
    if constexpr (kOutput == RowOutput::kPerTokenCodes || kOutput == RowOutput::kAbsmax) {
      float amax = 0.0f;
      auto upd = [&](std::int64_t, auto const& v) {
        for (float x : v) {
          amax = absmax_update(amax, x);
        }
      };
      for_cached(upd);
      for_uncached(factor, true, upd);
      amax = ReduceF::all_reduce(smem.reduce.f, amax, kernel::AbsmaxCombineOp{}, tid);
      if constexpr (kOutput == RowOutput::kAbsmax) {
        if (tid == 0) {
          atomicMax(p.out.absmax_bits, __float_as_uint(amax) & 0x7fffffffu);
        }
        return;
      } else {
        scale = scale_from_absmax(amax);
        if (tid == 0) {
          p.out.scales[row] = scale;
        }
      }
    } else if constexpr (kOutput == RowOutput::kCodes) {
      scale = p.out.absmax_bits != nullptr ? scale_from_absmax(__uint_as_float(*p.out.absmax_bits))
                                           : p.out.static_scale;
      if (row == 0 && tid == 0 && p.out.scales != nullptr) {
        p.out.scales[0] = scale;
      }
    }

    if constexpr (kOutput == RowOutput::kFloat) {
      auto store = [&](std::int64_t c, auto const& v) {
        constexpr int n = static_cast<int>(std::extent_v<std::remove_cvref_t<decltype(v)>>);
        kernel::Vec<float, n> out;
#pragma unroll
        for (int j = 0; j < n; ++j) {
          out.v[j] = v[j];
        }
        *reinterpret_cast<kernel::Vec<float, n>*>(p.out.values + row * p.out.ld_values + c) = out;
      };
      for_cached(store);
      for_uncached(factor, true, store);
    } else if constexpr (kOutput != RowOutput::kAbsmax) {
      float const inv = inverse_scale(scale);
      auto store = [&](std::int64_t c, auto const& v) {
        constexpr int n = static_cast<int>(std::extent_v<std::remove_cvref_t<decltype(v)>>);
        kernel::Vec<std::int8_t, n> q;
#pragma unroll
        for (int j = 0; j < n; ++j) {
          q.v[j] = quantize_value(v[j], inv);
        }
        *reinterpret_cast<kernel::Vec<std::int8_t, n>*>(p.out.codes + row * p.out.ld_codes + c) = q;
      };
      for_cached(store);
      for_uncached(factor, true, store);
    }
  }
};

}  // namespace spikequant::v0::cuda
