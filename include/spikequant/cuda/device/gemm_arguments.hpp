// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Arguments and can_implement checks of the CUDA GEMMs, in plain C++20 (no CUDA
//! headers), so argument validation compiles and is tested on machines without nvcc or a GPU.
#pragma once

#include "spikequant/core/checks.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/numeric.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace spikequant::inline v0::cuda {

//! Element type of a GEMM operand or output, chosen at run time.
enum class GemmElement {
  kInt32,     //!< raw int32 accumulator (INT8 GEMM only; no epilogue)
  kFloat32,   //!< float
  kFloat16,   //!< __half
  kBFloat16,  //!< __nv_bfloat16
};

//! Bytes of one element of `e`.
constexpr std::size_t element_bytes(GemmElement e) noexcept {
  return (e == GemmElement::kInt32 || e == GemmElement::kFloat32) ? 4 : 2;
}

//! Name of `e` ("s32", "f32", "f16", "bf16").
constexpr std::string_view to_string(GemmElement e) noexcept {
  switch (e) {
  case GemmElement::kInt32:
    return "s32";
  case GemmElement::kFloat32:
    return "f32";
  case GemmElement::kFloat16:
    return "f16";
  case GemmElement::kBFloat16:
    return "bf16";
  }
  return "?";
}

//! The dequantization epilogue on device pointers (the CUDA twin of cpu::DequantEpilogue):
//! out[m, n] = ((float(acc[m, n]) * act_scales[m or 0]) * weight_scales[n or 0]
//!              + bias[n]) + residual[m, n], each operation rounded once in fp32, no FMA.
struct DequantArguments {
  float const* act_scales = nullptr;     //!< M (per token) or 1 (per tensor), device
  std::int64_t act_scales_size = 0;      //!< M or 1
  float const* weight_scales = nullptr;  //!< N (per channel) or 1 (per tensor), device
  std::int64_t weight_scales_size = 0;   //!< N or 1
  float const* bias = nullptr;           //!< N, device; nullptr for none
  void const* residual = nullptr;        //!< (M, N) row-major in the *output* element type
  std::int64_t ld_residual = 0;          //!< elements between residual rows (>= N)
};

//! INT8 x INT8 -> int32 GEMM with an optional fused epilogue: d = epilogue(a * b^T).
struct Int8GemmArguments {
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
  std::int8_t const* a = nullptr;              //!< (M, K) row-major int8 activations, device
  std::int64_t lda = 0;                        //!< elements between rows of a (>= K)
  std::int8_t const* b = nullptr;              //!< (N, K) row-major int8 weights, device
  std::int64_t ldb = 0;                        //!< elements between rows of b (>= K)
  void* d = nullptr;                           //!< (M, N) row-major output, device
  std::int64_t ldd = 0;                        //!< elements between rows of d (>= N)
  GemmElement d_type = GemmElement::kFloat16;  //!< kInt32 writes the raw accumulator
  DequantArguments epilogue{};  //!< required for float outputs; must be empty for kInt32
};

//! W8A16 GEMM: d = (x * w^T) * w_scales[n] (+ bias[n]); x fp16/bf16, w int8 per channel.
struct W8A16GemmArguments {
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
  void const* x = nullptr;  //!< (M, K) row-major fp16 or bf16 activations, device
  std::int64_t ldx = 0;     //!< elements between rows of x (>= K)
  GemmElement x_type = GemmElement::kFloat16;  //!< kFloat16 or kBFloat16
  std::int8_t const* w = nullptr;              //!< (N, K) row-major int8 weight codes, device
  std::int64_t ldw = 0;                        //!< elements between rows of w (>= K)
  float const* w_scales = nullptr;             //!< N per-channel scales, device
  float const* bias = nullptr;                 //!< N, device; nullptr for none
  void* d = nullptr;                           //!< (M, N) row-major output, device
  std::int64_t ldd = 0;                        //!< elements between rows of d (>= N)
  GemmElement d_type = GemmElement::kFloat16;  //!< kFloat32, kFloat16 or kBFloat16
};

//! Standalone dequantization of an int32 matrix (after cuBLASLt): d = epilogue(acc).
struct DequantKernelArguments {
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int32_t const* acc = nullptr;  //!< (M, N) row-major int32, device
  std::int64_t ld_acc = 0;            //!< elements between rows of acc (>= N)
  void* d = nullptr;                  //!< (M, N) row-major output, device
  std::int64_t ldd = 0;
  GemmElement d_type = GemmElement::kFloat16;  //!< kFloat32, kFloat16 or kBFloat16
  DequantArguments epilogue{};
};

namespace detail {

inline bool gemm_aligned(void const* p, std::size_t bytes) noexcept {
  return is_aligned(p, bytes);
}

//! "<fn>: <what>", the name every check of a GEMM argument reports.
inline std::string gemm_arg(std::string_view fn, char const* what) {
  return ::spikequant::detail::concat(fn, ": ", what);
}

inline void
gemm_require_sizes(std::int64_t m, std::int64_t n, std::int64_t k, std::string_view fn) {
  require(
      m > 0 && n > 0 && k > 0,
      ErrorKind::kShape,
      fn,
      ": sizes must be positive, got M = ",
      m,
      ", N = ",
      n,
      ", K = ",
      k);
  // The kernels compute row / column indices and K tile counts in int, up to one tile (at
  // most 128, kept as 256) past M, N or K: e.g. (K + block_k - 1) and the rows of the last M
  // tile. Bounding by 2^31 - 1 alone let those overflow for sizes within a tile of it.
  constexpr std::int64_t kMax = 0x7fffffff - 256;
  require(
      m <= kMax && n <= kMax && k <= kMax,
      ErrorKind::kUnsupported,
      fn,
      ": M, N, K must each be <= 2^31 - 257, got M = ",
      m,
      ", N = ",
      n,
      ", K = ",
      k);
}

//! Checks a DequantArguments against (m, n) and the output type (residual element size).
inline void check_dequant_arguments(
    DequantArguments const& e,
    std::int64_t m,
    std::int64_t n,
    GemmElement d_type,
    std::string_view fn) {
  require(
      d_type != GemmElement::kInt32,
      ErrorKind::kInvalidArgument,
      fn,
      ": a dequantization epilogue needs a float output type (f32, f16 or bf16), got s32");
  require(e.act_scales != nullptr, ErrorKind::kInvalidArgument, fn, ": act_scales is null");
  require(e.weight_scales != nullptr, ErrorKind::kInvalidArgument, fn, ": weight_scales is null");
  require(
      e.act_scales_size == 1 || e.act_scales_size == m,
      ErrorKind::kShape,
      fn,
      ": act_scales has ",
      e.act_scales_size,
      " elements; need 1 (per tensor) or M = ",
      m,
      " (per token)");
  require(
      e.weight_scales_size == 1 || e.weight_scales_size == n,
      ErrorKind::kShape,
      fn,
      ": weight_scales has ",
      e.weight_scales_size,
      " elements; need 1 (per tensor) or N = ",
      n,
      " (per channel)");
  require_pointer(e.act_scales, 4, detail::gemm_arg(fn, "act_scales"));
  require_pointer(e.weight_scales, 4, detail::gemm_arg(fn, "weight_scales"));
  if (e.bias != nullptr) {
    require_pointer(e.bias, 4, detail::gemm_arg(fn, "bias"));
  }
  if (e.residual != nullptr) {
    require_pointer(e.residual, element_bytes(d_type), detail::gemm_arg(fn, "residual"));
    require_ld_covers(e.ld_residual, n, detail::gemm_arg(fn, "residual"));
  }
}

inline void require_float_output(GemmElement t, std::string_view fn) {
  require(
      t == GemmElement::kFloat32 || t == GemmElement::kFloat16 || t == GemmElement::kBFloat16,
      ErrorKind::kInvalidArgument,
      fn,
      ": output type must be f32, f16 or bf16, got ",
      to_string(t));
}

}  // namespace detail

//! Largest K the INT8 GEMMs accept: the core int32-accumulation bound cpu::gemm_s8s8s32 uses.
inline constexpr std::int64_t kMaxInt8GemmK = kMaxInt8AccumulationK;

//! Throws spikequant::Error unless the sm_80 INT8 GEMM can run `args`:
//! - kShape: M, N, K <= 0, ld < cols, epilogue sizes not M/1 and N/1, K % 16 != 0;
//! - kAlignment: a, b not 16-byte aligned or lda, ldb not multiples of 16 (each row is read
//!   in 16-byte cp.async chunks); d, residual not aligned to their element size;
//! - kInvalidArgument: null pointers, scales given with an int32 output or missing otherwise;
//! - kUnsupported: K > kMaxInt8GemmK.
inline void can_implement_int8_gemm(Int8GemmArguments const& args) {
  constexpr std::string_view fn = "sm80 int8 gemm";
  detail::gemm_require_sizes(args.m, args.n, args.k, fn);
  require(
      args.k % 16 == 0,
      ErrorKind::kShape,
      fn,
      ": K = ",
      args.k,
      " must be a multiple of 16 (rows are loaded in 16-byte chunks); pad K with zeros");
  require(
      args.k <= kMaxInt8GemmK,
      ErrorKind::kUnsupported,
      fn,
      ": K = ",
      args.k,
      " could overflow int32 accumulation (max ",
      kMaxInt8GemmK,
      ")");
  require_pointer(args.a, 16, detail::gemm_arg(fn, "a (activations)"));
  require_pointer(args.b, 16, detail::gemm_arg(fn, "b (weights)"));
  require_ld(args.lda, args.k, 1, 16, detail::gemm_arg(fn, "a (activations)"));
  require_ld(args.ldb, args.k, 1, 16, detail::gemm_arg(fn, "b (weights)"));
  require_pointer(args.d, element_bytes(args.d_type), detail::gemm_arg(fn, "d (output)"));
  require_ld_covers(args.ldd, args.n, detail::gemm_arg(fn, "d (output)"));
  if (args.d_type == GemmElement::kInt32) {
    require(
        args.epilogue.act_scales == nullptr && args.epilogue.weight_scales == nullptr &&
            args.epilogue.bias == nullptr && args.epilogue.residual == nullptr,
        ErrorKind::kInvalidArgument,
        fn,
        ": an int32 output takes no epilogue (scales, bias, residual must be null)");
  } else {
    detail::check_dequant_arguments(args.epilogue, args.m, args.n, args.d_type, fn);
  }
}

//! Throws spikequant::Error unless the sm_80 W8A16 GEMM can run `args`:
//! - kShape: sizes <= 0, ld < cols, K % 16 != 0;
//! - kAlignment: x, w not 16-byte aligned, ldx * 2 or ldw not multiples of 16 bytes;
//! - kInvalidArgument: null pointers, x not f16/bf16, d not f32/f16/bf16.
inline void can_implement_w8a16_gemm(W8A16GemmArguments const& args) {
  constexpr std::string_view fn = "sm80 w8a16 gemm";
  detail::gemm_require_sizes(args.m, args.n, args.k, fn);
  require(
      args.k % 16 == 0,
      ErrorKind::kShape,
      fn,
      ": K = ",
      args.k,
      " must be a multiple of 16 (weight rows are loaded in 16-byte chunks); pad K with zeros");
  require(
      args.x_type == GemmElement::kFloat16 || args.x_type == GemmElement::kBFloat16,
      ErrorKind::kInvalidArgument,
      fn,
      ": activations must be f16 or bf16, got ",
      to_string(args.x_type));
  detail::require_float_output(args.d_type, fn);
  require_pointer(args.x, 16, detail::gemm_arg(fn, "x (activations)"));
  require_pointer(args.w, 16, detail::gemm_arg(fn, "w (weights)"));
  require_ld(args.ldx, args.k, 2, 16, detail::gemm_arg(fn, "x (activations)"));
  require_ld(args.ldw, args.k, 1, 16, detail::gemm_arg(fn, "w (weights)"));
  require_pointer(args.w_scales, 4, detail::gemm_arg(fn, "w_scales"));
  if (args.bias != nullptr) {
    require_pointer(args.bias, 4, detail::gemm_arg(fn, "bias"));
  }
  require_pointer(args.d, element_bytes(args.d_type), detail::gemm_arg(fn, "d (output)"));
  require_ld_covers(args.ldd, args.n, detail::gemm_arg(fn, "d (output)"));
}

//! Throws spikequant::Error unless the standalone dequantization kernel can run `args`.
inline void can_implement_dequant(DequantKernelArguments const& args) {
  constexpr std::string_view fn = "dequant epilogue";
  require(
      args.m > 0 && args.n > 0,
      ErrorKind::kShape,
      fn,
      ": sizes must be positive, got (",
      args.m,
      ", ",
      args.n,
      ")");
  detail::require_float_output(args.d_type, fn);
  require_pointer(args.acc, 4, detail::gemm_arg(fn, "acc"));
  require_ld_covers(args.ld_acc, args.n, detail::gemm_arg(fn, "acc"));
  require_pointer(args.d, element_bytes(args.d_type), detail::gemm_arg(fn, "d (output)"));
  require_ld_covers(args.ldd, args.n, detail::gemm_arg(fn, "d (output)"));
  detail::check_dequant_arguments(args.epilogue, args.m, args.n, args.d_type, fn);
}

//! Problem of the cuBLASLt INT8 path: c (M, N) int32 = a (M, K) int8 * b (N, K)^T int8.
struct CublasLtInt8Problem {
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
  std::int64_t lda = 0;  //!< elements between rows of a (>= K)
  std::int64_t ldb = 0;  //!< elements between rows of b (>= K)
  std::int64_t ldc = 0;  //!< elements between rows of c (>= N)
};

//! Throws spikequant::Error unless cuBLASLt's IMMA requirements for the regular (column)
//! ordering hold for `p` as this library calls it (see cublaslt_int8_gemm.cuh for the mapping:
//! cuBLASLt sees m' = N, n' = M, k' = K, "TN", lda' = ldb, ldb' = lda, ldc' = ldc):
//! - kShape: sizes <= 0 or ld < cols; N (cuBLASLt's m) or K not a multiple of 4;
//! - kAlignment: lda, ldb, ldc not multiples of 4 elements.
//! Pointer alignment (16 bytes, which this library requires although cuBLASLt documents 4)
//! is checked by CublasLtInt8Gemm::run.
inline void can_implement_cublaslt_int8(CublasLtInt8Problem const& p) {
  constexpr std::string_view fn = "cublasLt int8 gemm";
  detail::gemm_require_sizes(p.m, p.n, p.k, fn);
  require(
      p.k % 4 == 0 && p.n % 4 == 0,
      ErrorKind::kShape,
      fn,
      ": cuBLASLt IMMA needs K and N to be multiples of 4, got N = ",
      p.n,
      ", K = ",
      p.k);
  require_ld(p.lda, p.k, 1, 4, detail::gemm_arg(fn, "a (activations)"));
  require_ld(p.ldb, p.k, 1, 4, detail::gemm_arg(fn, "b (weights)"));
  require_ld(p.ldc, p.n, 1, 4, detail::gemm_arg(fn, "c (int32 output)"));
}

}  // namespace spikequant::v0::cuda
