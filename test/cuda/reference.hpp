// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Plain-function facade over the CPU reference (compiled by the host compiler in
//! reference.cpp), so the .cu tests never include Eigen.
#pragma once

#include <cstdint>

namespace spikequant_test::ref {

//! cpu::quantize_dynamic<PerToken>: codes (rows, cols) contiguous, scales rows floats.
void quantize_per_token(
    float const* x, std::int64_t rows, std::int64_t cols, std::int8_t* codes, float* scales);
//! cpu::quantize_dynamic<PerTensor>: codes (rows, cols) contiguous, one scale.
void quantize_per_tensor(
    float const* x, std::int64_t rows, std::int64_t cols, std::int8_t* codes, float* scale);
//! cpu::quantize_static<PerTensor>.
void quantize_static(
    float const* x, std::int64_t rows, std::int64_t cols, float scale, std::int8_t* codes);
//! cpu::swiglu (geglu = false) or cpu::geglu (geglu = true).
void glu(
    bool geglu,
    float const* gate,
    float const* up,
    std::int64_t rows,
    std::int64_t cols,
    float* out);
//! cpu::rmsnorm.
void rmsnorm(
    float const* x,
    float const* weight,
    float eps,
    std::int64_t rows,
    std::int64_t cols,
    float* out);

}  // namespace spikequant_test::ref
