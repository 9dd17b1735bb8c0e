// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The standalone dequant kernel (run_dequant_epilogue, used after cuBLASLt's int32 GEMM)
//! against the CPU epilogue: per tensor / per token x per channel, bias, residual, f32 / f16 /
//! bf16 outputs, N not a multiple of the block, poisoned outputs with a guard region.
#include "gemm_reference.hpp"
#include "gemm_test_util.cuh"
#include "spikequant/cuda/kernel/dequant_epilogue.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"

#include <cstdint>
#include <doctest/doctest.h>
#include <span>
#include <vector>

namespace {
namespace sqc = spikequant::cuda;
namespace tg = spikequant_test::gemm;
}  // namespace

TEST_CASE("DequantEpilogue kernel matches cpu::dequant_epilogue") {
  struct Shape {
    std::int64_t m, n, k;
  };
  // N = 257: one full block of 256 columns and a one-column block; M = 9: rows past the
  // 4-row step of a block.
  for (Shape const s : {Shape{37, 68, 96}, Shape{1, 64, 64}, Shape{9, 257, 160}}) {
    CAPTURE(s.m);
    CAPTURE(s.n);
    auto const a = tg::random_codes(s.m, s.k, s.k, 31);
    auto const b = tg::random_codes(s.n, s.k, s.k, 32);
    std::vector<std::int32_t> acc(static_cast<std::size_t>(s.m * s.n));
    spikequant_test::gemm_ref::gemm_s8s8s32(a.data(), b.data(), acc.data(), s.m, s.n, s.k);
    sqc::DeviceBuffer<std::int32_t> d_acc(std::span<std::int32_t const>{acc});

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
        args.acc = d_acc.data();
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
