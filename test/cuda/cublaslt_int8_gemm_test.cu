// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file cuBLASLt INT8 path (TN IMMA, int32 out) and the standalone dequant kernel against the
//! CPU reference: exact accumulators, then the epilogue in f32 / f16 / bf16.
#include "gemm_reference.hpp"
#include "gemm_test_util.cuh"
#include "spikequant/cuda/device/cublaslt_int8_gemm.cuh"
#include "spikequant/cuda/kernel/dequant_epilogue.cuh"
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

TEST_CASE(
    "CublasLt_Int8Gemm_s8s8s32 equals cpu::gemm_s8s8s32, dequant kernel matches the epilogue") {
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

    auto const act = tg::random_scales(s.m, 1.0f / 127.0f, 41);
    auto const w = tg::random_scales(s.n, 1.0f / 127.0f, 42);
    auto const bias = tg::random_floats(s.n, 4.0f, 43);
    auto const residual = tg::random_floats(s.m * s.n, 8.0f, 44);
    sqc::DeviceBuffer<float> d_act(std::span<float const>{act});
    sqc::DeviceBuffer<float> d_w(std::span<float const>{w});
    sqc::DeviceBuffer<float> d_bias(std::span<float const>{bias});
    for (sqc::GemmElement const t :
         {sqc::GemmElement::kFloat32, sqc::GemmElement::kFloat16, sqc::GemmElement::kBFloat16}) {
      for (bool const full : {false, true}) {
        CAPTURE(sqc::to_string(t));
        CAPTURE(full);
        auto const res_bytes = tg::to_element_bytes(residual, t);
        auto const res_ref = tg::round_trip(residual, t);
        sqc::DeviceBuffer<unsigned char> d_res(std::span<unsigned char const>{res_bytes});
        tg::PoisonedOutput out(t, s.m, s.n, s.n);
        sqc::DequantKernelArguments args;
        args.m = s.m;
        args.n = s.n;
        args.acc = dc;
        args.ld_acc = s.n;
        args.d = out.data();
        args.ldd = s.n;
        args.d_type = t;
        // full: per token x per channel + bias + residual; else per tensor x per channel.
        args.epilogue = {d_act.data(), full ? s.m : 1, d_w.data(), s.n};
        if (full) {
          args.epilogue.bias = d_bias.data();
          args.epilogue.residual = d_res.data();
          args.epilogue.ld_residual = s.n;
        }
        sqc::run_dequant_epilogue(args, nullptr);
        auto const vals = out.download_checked();
        std::vector<float> ref(vals.size());
        spikequant_test::gemm_ref::dequant_epilogue(
            acc.data(),
            s.m,
            s.n,
            full ? act : std::vector<float>{act[0]},
            w,
            full ? bias : std::vector<float>{},
            full ? res_ref.data() : nullptr,
            ref.data());
        tg::expect_close(vals, ref, tg::tolerance_of(t), s.n);
      }
    }
  }
}
