// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU references for the CUDA GEMM tests (host compiler; may include Eigen).
#include "gemm_reference.hpp"

#include "spikequant/cpu/gemm.hpp"
#include "spikequant/cpu/linear.hpp"

#include <span>

namespace spikequant_test::gemm_ref {

namespace cpu = spikequant::cpu;

void gemm_s8s8s32(
    std::int8_t const* a,
    std::int8_t const* b,
    std::int32_t* acc,
    std::int64_t m,
    std::int64_t n,
    std::int64_t k) {
  cpu::gemm_s8s8s32({a, m, k, k}, {b, n, k, k}, {acc, m, n, n});
}

void dequant_epilogue(
    std::int32_t const* acc,
    std::int64_t m,
    std::int64_t n,
    std::vector<float> const& act_scales,
    std::vector<float> const& weight_scales,
    std::vector<float> const& bias,
    float const* residual,
    float* out) {
  cpu::DequantEpilogue e{
      std::span<float const>(act_scales),
      std::span<float const>(weight_scales),
      std::span<float const>(bias),
      residual != nullptr ? spikequant::MatrixRef<float const>{residual, m, n, n}
                          : spikequant::MatrixRef<float const>{}};
  cpu::dequant_epilogue({acc, m, n, n}, e, {out, m, n, n});
}

void linear_w8a16(
    float const* x,
    std::int8_t const* w,
    std::vector<float> const& scales,
    std::vector<float> const& bias,
    std::int64_t m,
    std::int64_t n,
    std::int64_t k,
    float* y) {
  cpu::QuantizedWeight qw;
  qw.out_features = n;
  qw.in_features = k;
  qw.codes.assign(w, w + n * k);
  qw.scales = scales;
  cpu::linear_w8a16({x, m, k, k}, qw, std::span<float const>(bias), {y, m, n, n});
}

}  // namespace spikequant_test::gemm_ref
