// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The CPU reference behind reference.hpp (host compiler; Eigen stays out of nvcc).
#include "cuda/reference.hpp"

#include "spikequant/cpu/glu.hpp"
#include "spikequant/cpu/quantize.hpp"
#include "spikequant/cpu/rmsnorm.hpp"

#include <span>

namespace spikequant_test::ref {
namespace sq = spikequant;

void quantize_per_token(
    float const* x, std::int64_t rows, std::int64_t cols, std::int8_t* codes, float* scales) {
  sq::cpu::quantize_dynamic<sq::granularity::PerToken>(
      sq::MatrixRef<float const>{x, rows, cols, cols},
      sq::MatrixRef<std::int8_t>{codes, rows, cols, cols},
      std::span<float>(scales, static_cast<std::size_t>(rows)));
}

void quantize_per_tensor(
    float const* x, std::int64_t rows, std::int64_t cols, std::int8_t* codes, float* scale) {
  sq::cpu::quantize_dynamic<sq::granularity::PerTensor>(
      sq::MatrixRef<float const>{x, rows, cols, cols},
      sq::MatrixRef<std::int8_t>{codes, rows, cols, cols},
      std::span<float>(scale, 1));
}

void quantize_static(
    float const* x, std::int64_t rows, std::int64_t cols, float scale, std::int8_t* codes) {
  float const s[1] = {scale};
  sq::cpu::quantize_static<sq::granularity::PerTensor>(
      sq::MatrixRef<float const>{x, rows, cols, cols},
      std::span<float const>(s, 1),
      sq::MatrixRef<std::int8_t>{codes, rows, cols, cols});
}

void glu(
    bool geglu,
    float const* gate,
    float const* up,
    std::int64_t rows,
    std::int64_t cols,
    float* out) {
  sq::MatrixRef<float const> const g{gate, rows, cols, cols};
  sq::MatrixRef<float const> const u{up, rows, cols, cols};
  sq::MatrixRef<float> const o{out, rows, cols, cols};
  if (geglu) {
    sq::cpu::geglu(g, u, o);
  } else {
    sq::cpu::swiglu(g, u, o);
  }
}

void rmsnorm(
    float const* x,
    float const* weight,
    float eps,
    std::int64_t rows,
    std::int64_t cols,
    float* out) {
  sq::cpu::rmsnorm(
      sq::MatrixRef<float const>{x, rows, cols, cols},
      std::span<float const>(weight, static_cast<std::size_t>(cols)),
      eps,
      sq::MatrixRef<float>{out, rows, cols, cols});
}

}  // namespace spikequant_test::ref
