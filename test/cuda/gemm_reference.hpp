// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Plain-function facade over the CPU GEMM references (compiled by the host compiler in
//! gemm_reference.cpp), so the GEMM .cu tests never include Eigen.
#pragma once

#include <cstdint>
#include <vector>

namespace spikequant_test::gemm_ref {

//! cpu::gemm_s8s8s32: acc (m, n) = a (m, k) * b (n, k)^T; all contiguous (ld = cols).
void gemm_s8s8s32(
    std::int8_t const* a,
    std::int8_t const* b,
    std::int32_t* acc,
    std::int64_t m,
    std::int64_t n,
    std::int64_t k);

//! cpu::dequant_epilogue on a contiguous (m, n) accumulator.
//! act_scales: m or 1; weight_scales: n or 1; bias: n or empty; residual: (m, n) or nullptr.
void dequant_epilogue(
    std::int32_t const* acc,
    std::int64_t m,
    std::int64_t n,
    std::vector<float> const& act_scales,
    std::vector<float> const& weight_scales,
    std::vector<float> const& bias,
    float const* residual,
    float* out);

//! cpu::linear_w8a16: y (m, n) = (x (m, k) * w (n, k)^T) * scales[n] + bias[n] (bias may be
//! empty). All contiguous.
void linear_w8a16(
    float const* x,
    std::int8_t const* w,
    std::vector<float> const& scales,
    std::vector<float> const& bias,
    std::int64_t m,
    std::int64_t n,
    std::int64_t k,
    float* y);

}  // namespace spikequant_test::gemm_ref
