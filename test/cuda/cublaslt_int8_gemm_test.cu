// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file cuBLASLt INT8 path (TN IMMA, int32 out) against the CPU reference: exact accumulators.
//! The standalone dequant kernel that follows it is tested in dequant_epilogue_test.cu (which
//! also runs on the SIMT emulator).
#include "gemm_reference.hpp"
#include "gemm_test_util.cuh"
#include "spikequant/cuda/device/cublaslt_int8_gemm.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"

#include <algorithm>
#include <cstdint>
#include <cublasLt.h>
#include <doctest/doctest.h>
#include <span>
#include <vector>

namespace {
namespace sq = spikequant;
namespace sqc = spikequant::cuda;
namespace tg = spikequant_test::gemm;

struct LtHandle {
  cublasLtHandle_t h = nullptr;
  LtHandle() { SPIKEQUANT_CUBLAS_CHECK(cublasLtCreate(&h)); }
  ~LtHandle() { (void)cublasLtDestroy(h); }
  LtHandle(LtHandle const&) = delete;
  LtHandle& operator=(LtHandle const&) = delete;
};
}  // namespace

TEST_CASE("CublasLt_Int8Gemm_s8s8s32 equals cpu::gemm_s8s8s32") {
  LtHandle lt;
  struct Shape {
    std::int64_t m, n, k;
  };
  // cuBLASLt IMMA needs N and K multiples of 4; M is free.
  for (Shape const s : {Shape{37, 68, 96}, Shape{1, 64, 64}, Shape{300, 260, 1024}}) {
    CAPTURE(s.m);
    CAPTURE(s.n);
    CAPTURE(s.k);
    auto const a = tg::random_codes(s.m, s.k, s.k, 31);
    auto const b = tg::random_codes(s.n, s.k, s.k, 32);
    std::vector<std::int32_t> acc(static_cast<std::size_t>(s.m * s.n));
    spikequant_test::gemm_ref::gemm_s8s8s32(a.data(), b.data(), acc.data(), s.m, s.n, s.k);
    sqc::DeviceBuffer<std::int8_t> da(std::span<std::int8_t const>{a});
    sqc::DeviceBuffer<std::int8_t> db(std::span<std::int8_t const>{b});

    sqc::CublasLtInt8Gemm const gemm(lt.h, {s.m, s.n, s.k, s.k, s.k, s.n});
    sqc::DeviceBuffer<std::byte> ws(std::max<std::size_t>(gemm.workspace_size(), 1));
    tg::PoisonedOutput c(sqc::GemmElement::kInt32, s.m, s.n, s.n);
    auto* dc = static_cast<std::int32_t*>(c.data());
    gemm.run(da.data(), db.data(), dc, ws.data(), ws.bytes(), nullptr);
    std::vector<std::int64_t> got;
    (void)c.download_checked(&got);
    CHECK(std::equal(got.begin(), got.end(), acc.begin()));

    // Misaligned pointers are rejected before cuBLASLt sees them.
    CHECK_THROWS_AS(
        gemm.run(da.data() + 4, db.data(), dc, ws.data(), ws.bytes(), nullptr), sq::Error);
  }
}
