// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host helpers for the CUDA tests: random spiky data in f32 / f16 / bf16, conversions.
#pragma once

#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <random>
#include <type_traits>
#include <vector>

namespace spikequant_test {

//! Host conversions matching the device's (round-to-nearest-even narrowing, exact widening).
template <class T>
T from_float(float x) {
  if constexpr (std::is_same_v<T, __half>) {
    return __float2half_rn(x);
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __float2bfloat16_rn(x);
  } else {
    return x;
  }
}
template <class T>
float to_float_host(T x) {
  if constexpr (std::is_same_v<T, __half>) {
    return __half2float(x);
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __bfloat162float(x);
  } else {
    return x;
  }
}

//! rows * ld values ~ N(0, 1) with a few spikes (x 200) and never an all-zero row; elements
//! past `cols` in each row (padding) are filled too. Returns the T data and its float image.
template <class T>
struct RandomRows {
  std::vector<T> data;       // (rows, ld) T
  std::vector<float> dense;  // (rows, cols) float: the exact widening of data's elements
};

template <class T>
RandomRows<T> random_rows(
    std::int64_t rows,
    std::int64_t cols,
    std::int64_t ld,
    std::uint32_t seed,
    float spike = 200.f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 499);
  RandomRows<T> r;
  r.data.resize(static_cast<std::size_t>(rows * ld));
  r.dense.resize(static_cast<std::size_t>(rows * cols));
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < ld; ++j) {
      float v = normal(gen);
      if (pick(gen) == 0) {
        v *= spike;  // activation spikes: a few large values
      }
      if (v == 0.0f) {
        v = 0.5f;
      }
      T const t = from_float<T>(v);
      r.data[static_cast<std::size_t>(i * ld + j)] = t;
      if (j < cols) {
        r.dense[static_cast<std::size_t>(i * cols + j)] = to_float_host(t);
      }
    }
  }
  return r;
}

}  // namespace spikequant_test
