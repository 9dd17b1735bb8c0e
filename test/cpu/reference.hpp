// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Naive reference loops and random data for the CPU tests (independent of the library).
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace spikequant_test {

//! A dense row-major float matrix with a view; ld may exceed cols (padding is filled with a
//! poison value so reading it shows up in results).
template <class T>
struct Mat {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t ld = 0;
  std::vector<T> buf;

  Mat(std::int64_t r, std::int64_t c, std::int64_t pad = 0, T fill = T{})
      : rows(r)
      , cols(c)
      , ld(c + pad)
      , buf(static_cast<std::size_t>(r * (c + pad)), fill) {}
  T& operator()(std::int64_t r, std::int64_t c) {
    return buf[static_cast<std::size_t>(r * ld + c)];
  }
  T operator()(std::int64_t r, std::int64_t c) const {
    return buf[static_cast<std::size_t>(r * ld + c)];
  }
  spikequant::MatrixRef<T> ref() { return {buf.data(), rows, cols, ld}; }
  spikequant::MatrixRef<T const> cref() const { return {buf.data(), rows, cols, ld}; }
};

//! Uniform floats in [lo, hi] from a fixed seed.
inline Mat<float> random_float(
    std::int64_t r,
    std::int64_t c,
    unsigned seed,
    float lo = -1.0f,
    float hi = 1.0f,
    std::int64_t pad = 0) {
  Mat<float> m(r, c, pad, 1e30f);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t j = 0; j < c; ++j) {
      m(i, j) = d(gen);
    }
  }
  return m;
}

//! Independent symmetric INT8 quantization of one value: nearest-even(x * (1 / scale)),
//! clamped to +-127 (the documented formula; multiply by the float reciprocal).
inline std::int8_t naive_code(float x, float scale) {
  float const inv = 1.0f / scale;
  float v = x * inv;
  if (std::isnan(v)) {
    return 0;
  }
  v = std::min(127.0f, std::max(-127.0f, v));
  return static_cast<std::int8_t>(std::nearbyint(v));
}

//! absmax / 127, or 1 for an all-zero group.
inline float naive_scale(float absmax) {
  return absmax == 0.0f ? 1.0f : absmax / 127.0f;
}

//! acc[m, n] = sum_k a[m, k] * b[n, k] in int64 (then checked to fit int32).
inline std::vector<std::int64_t>
naive_gemm(spikequant::MatrixRef<std::int8_t const> a, spikequant::MatrixRef<std::int8_t const> b) {
  std::vector<std::int64_t> acc(static_cast<std::size_t>(a.rows * b.rows), 0);  // (M, N)
  for (std::int64_t m = 0; m < a.rows; ++m) {
    for (std::int64_t n = 0; n < b.rows; ++n) {
      std::int64_t s = 0;
      for (std::int64_t k = 0; k < a.cols; ++k) {
        s += static_cast<std::int64_t>(a(m, k)) * static_cast<std::int64_t>(b(n, k));
      }
      acc[static_cast<std::size_t>(m * b.rows + n)] = s;
    }
  }
  return acc;
}

//! y[m, n] = sum_k x[m, k] * w[n, k] in double; also returns sum_k |x||w| per element (the
//! scale of float accumulation error) through `mag` when given.
inline std::vector<double> naive_linear(
    spikequant::MatrixRef<float const> x,
    spikequant::MatrixRef<float const> w,
    std::vector<double>* mag = nullptr) {
  std::vector<double> y(static_cast<std::size_t>(x.rows * w.rows));  // (M, N)
  if (mag != nullptr) {
    mag->assign(y.size(), 0.0);
  }
  for (std::int64_t m = 0; m < x.rows; ++m) {
    for (std::int64_t n = 0; n < w.rows; ++n) {
      double s = 0.0;
      double a = 0.0;
      for (std::int64_t k = 0; k < x.cols; ++k) {
        s += static_cast<double>(x(m, k)) * static_cast<double>(w(n, k));
        a += std::fabs(static_cast<double>(x(m, k)) * static_cast<double>(w(n, k)));
      }
      y[static_cast<std::size_t>(m * w.rows + n)] = s;
      if (mag != nullptr) {
        (*mag)[static_cast<std::size_t>(m * w.rows + n)] = a;
      }
    }
  }
  return y;
}

//! Runs `fn`, which must throw spikequant::Error; returns it (or a kIo error with "no throw"
//! as message, which fails every CHECK on the kind).
inline spikequant::Error catch_error(std::function<void()> const& fn) {
  try {
    fn();
  } catch (spikequant::Error const& e) {
    return e;
  }
  return spikequant::Error(spikequant::ErrorKind::kIo, "<no exception thrown>");
}

inline bool has(spikequant::Error const& e, std::string const& s) {
  return std::string(e.what()).find(s) != std::string::npos;
}

}  // namespace spikequant_test
