// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file can_implement of the CUDA GEMMs (INT8, W8A16, dequant, cuBLASLt shapes). Plain C++:
//! gemm_arguments.hpp needs neither nvcc nor a GPU, so this runs in every CI job.
#include "spikequant/cuda/device/gemm_arguments.hpp"

#include <cstdint>
#include <doctest/doctest.h>

namespace {
namespace sq = spikequant;
namespace sqc = spikequant::cuda;

// Fake device storage: can_implement never dereferences pointers.
alignas(256) std::int8_t g_a[64 * 1024];
alignas(256) std::int8_t g_b[64 * 1024];
alignas(256) float g_d[64 * 64];
alignas(256) float g_scales[64];

template <class F>
sq::ErrorKind kind_of(F&& f) {
  try {
    f();
  } catch (sq::Error const& e) {
    MESSAGE(e.what());
    return e.kind();
  }
  FAIL("no spikequant::Error thrown");
  return sq::ErrorKind::kUnsupported;
}

sqc::Int8GemmArguments good_int8() {
  sqc::Int8GemmArguments a;
  a.m = 37;
  a.n = 64;
  a.k = 96;
  a.a = g_a;
  a.lda = 96;
  a.b = g_b;
  a.ldb = 96;
  a.d = g_d;
  a.ldd = 64;
  a.d_type = sqc::GemmElement::kFloat32;
  a.epilogue = {g_scales, 37, g_scales, 64};
  return a;
}

sqc::W8A16GemmArguments good_w8a16() {
  sqc::W8A16GemmArguments a;
  a.m = 5;
  a.n = 64;
  a.k = 96;
  a.x = g_d;
  a.ldx = 96;
  a.w = g_b;
  a.ldw = 96;
  a.w_scales = g_scales;
  a.d = g_d;
  a.ldd = 64;
  return a;
}
}  // namespace

TEST_CASE("Sm80_Int8Gemm can_implement accepts valid arguments") {
  CHECK_NOTHROW(sqc::can_implement_int8_gemm(good_int8()));
  auto a = good_int8();
  a.epilogue.act_scales_size = 1;  // per tensor
  a.epilogue.weight_scales_size = 1;
  CHECK_NOTHROW(sqc::can_implement_int8_gemm(a));
  a = good_int8();
  a.d_type = sqc::GemmElement::kInt32;
  a.epilogue = {};
  CHECK_NOTHROW(sqc::can_implement_int8_gemm(a));
  a = good_int8();
  a.k = 16;  // the smallest K
  a.lda = a.ldb = 32;
  CHECK_NOTHROW(sqc::can_implement_int8_gemm(a));
}

TEST_CASE("Sm80_Int8Gemm can_implement rejects bad shapes with kShape") {
  auto a = good_int8();
  a.k = 24;  // K % 16 != 0
  a.lda = a.ldb = 32;
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kShape);
  a = good_int8();
  a.m = 0;
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kShape);
  a = good_int8();
  a.lda = 80;  // < K
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kShape);
  a = good_int8();
  a.ldd = 63;
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kShape);
  a = good_int8();
  a.epilogue.act_scales_size = 36;  // neither M nor 1
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kShape);
  a = good_int8();
  a.epilogue.weight_scales_size = 37;  // neither N nor 1
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kShape);
  a = good_int8();
  a.epilogue.residual = g_d;
  a.epilogue.ld_residual = 32;  // < N
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kShape);
}

TEST_CASE("Sm80_Int8Gemm can_implement rejects misalignment with kAlignment") {
  auto a = good_int8();
  a.a = g_a + 1;
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kAlignment);
  a = good_int8();
  a.b = g_b + 8;
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kAlignment);
  a = good_int8();
  a.lda = 104;  // >= K but rows no longer 16-byte aligned
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kAlignment);
  a = good_int8();
  a.d = reinterpret_cast<char*>(g_d) + 2;  // float output, 2-byte aligned
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kAlignment);
}

TEST_CASE("Sm80_Int8Gemm can_implement rejects inconsistent epilogues") {
  auto a = good_int8();
  a.d_type = sqc::GemmElement::kInt32;  // int32 output with scales
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kInvalidArgument);
  a = good_int8();
  a.epilogue.act_scales = nullptr;  // float output without scales
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kInvalidArgument);
  a = good_int8();
  a.a = nullptr;
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kInvalidArgument);
  a = good_int8();
  a.k = 131072 + 16;
  a.lda = a.ldb = a.k;
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kUnsupported);
}

TEST_CASE("Sm80_W8A16Gemm can_implement") {
  CHECK_NOTHROW(sqc::can_implement_w8a16_gemm(good_w8a16()));
  auto a = good_w8a16();
  a.k = 40;
  a.ldx = a.ldw = 48;
  CHECK(kind_of([&] { sqc::can_implement_w8a16_gemm(a); }) == sq::ErrorKind::kShape);
  a = good_w8a16();
  a.ldx = 100;  // 200 bytes per row: not a multiple of 16
  CHECK(kind_of([&] { sqc::can_implement_w8a16_gemm(a); }) == sq::ErrorKind::kAlignment);
  a = good_w8a16();
  a.x = reinterpret_cast<char const*>(g_d) + 8;
  CHECK(kind_of([&] { sqc::can_implement_w8a16_gemm(a); }) == sq::ErrorKind::kAlignment);
  a = good_w8a16();
  a.x_type = sqc::GemmElement::kFloat32;
  CHECK(kind_of([&] { sqc::can_implement_w8a16_gemm(a); }) == sq::ErrorKind::kInvalidArgument);
  a = good_w8a16();
  a.d_type = sqc::GemmElement::kInt32;
  CHECK(kind_of([&] { sqc::can_implement_w8a16_gemm(a); }) == sq::ErrorKind::kInvalidArgument);
  a = good_w8a16();
  a.w_scales = nullptr;
  CHECK(kind_of([&] { sqc::can_implement_w8a16_gemm(a); }) == sq::ErrorKind::kInvalidArgument);
}

TEST_CASE("Sm80 GEMMs reject sizes whose last tile would overflow int indices") {
  // The kernels compute (K + block_k - 1) and the rows / columns of the last tile in int.
  std::int64_t const too_big = 0x7fffffff - 127;  // a multiple of 16, within one tile of 2^31
  auto w = good_w8a16();
  w.k = too_big;
  w.ldx = w.ldw = too_big;
  CHECK(kind_of([&] { sqc::can_implement_w8a16_gemm(w); }) == sq::ErrorKind::kUnsupported);
  w = good_w8a16();
  w.m = too_big;
  CHECK(kind_of([&] { sqc::can_implement_w8a16_gemm(w); }) == sq::ErrorKind::kUnsupported);
  auto a = good_int8();
  a.n = too_big;
  a.ldd = too_big;
  a.epilogue.weight_scales_size = 1;
  CHECK(kind_of([&] { sqc::can_implement_int8_gemm(a); }) == sq::ErrorKind::kUnsupported);
  w = good_w8a16();
  w.m = 0x7fffffff - 256;  // the largest accepted size
  CHECK_NOTHROW(sqc::can_implement_w8a16_gemm(w));
}

TEST_CASE("DequantEpilogue and cuBLASLt INT8 can_implement") {
  sqc::DequantKernelArguments d;
  d.m = 3;
  d.n = 5;
  d.acc = reinterpret_cast<std::int32_t const*>(g_a);
  d.ld_acc = 5;
  d.d = g_d;
  d.ldd = 5;
  d.d_type = sqc::GemmElement::kFloat32;
  d.epilogue = {g_scales, 3, g_scales, 1};
  CHECK_NOTHROW(sqc::can_implement_dequant(d));
  d.d_type = sqc::GemmElement::kInt32;
  CHECK(kind_of([&] { sqc::can_implement_dequant(d); }) == sq::ErrorKind::kInvalidArgument);
  d.d_type = sqc::GemmElement::kFloat16;
  d.acc = reinterpret_cast<std::int32_t const*>(g_a + 2);
  CHECK(kind_of([&] { sqc::can_implement_dequant(d); }) == sq::ErrorKind::kAlignment);

  sqc::CublasLtInt8Problem p{.m = 37, .n = 64, .k = 96, .lda = 96, .ldb = 96, .ldc = 64};
  CHECK_NOTHROW(sqc::can_implement_cublaslt_int8(p));
  p.m = 1;  // any M is fine (cuBLASLt's n)
  CHECK_NOTHROW(sqc::can_implement_cublaslt_int8(p));
  p.n = 65;  // cuBLASLt's m must be a multiple of 4
  p.ldc = 68;
  CHECK(kind_of([&] { sqc::can_implement_cublaslt_int8(p); }) == sq::ErrorKind::kShape);
  p = {.m = 37, .n = 64, .k = 98, .lda = 100, .ldb = 100, .ldc = 64};
  CHECK(kind_of([&] { sqc::can_implement_cublaslt_int8(p); }) == sq::ErrorKind::kShape);
  p = {.m = 37, .n = 64, .k = 96, .lda = 98, .ldb = 96, .ldc = 64};
  CHECK(kind_of([&] { sqc::can_implement_cublaslt_int8(p); }) == sq::ErrorKind::kAlignment);
}
