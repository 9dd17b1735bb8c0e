// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Helpers of the CUDA GEMM tests: random int8 codes, poisoned output buffers with a
//! guard region, and the elementwise comparison with named tolerances.
#pragma once

#include "spikequant/cuda/device/gemm_arguments.hpp"
#include "spikequant/cuda/runtime/device_buffer.cuh"
#include "test_util.cuh"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <doctest/doctest.h>
#include <random>
#include <span>
#include <vector>

namespace spikequant_test::gemm {

namespace sqc = spikequant::cuda;

//! (rows, ld) int8 codes uniform over [-128, 127] without 0; the first rows hold -128 and 127
//! so both extremes always meet in products. Padding columns (>= cols) hold 99: they must
//! never be read into the result.
inline std::vector<std::int8_t>
random_codes(std::int64_t rows, std::int64_t cols, std::int64_t ld, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-128, 126);
  std::vector<std::int8_t> v(static_cast<std::size_t>(rows * ld), std::int8_t{99});
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      int x = dist(gen);
      x = x >= 0 ? x + 1 : x;  // skip 0: [-128, -1] u [1, 127]
      v[static_cast<std::size_t>(r * ld + c)] = static_cast<std::int8_t>(x);
    }
  }
  v[0] = -128;
  if (cols > 1) {
    v[1] = 127;
  }
  if (rows > 1) {
    v[static_cast<std::size_t>(ld)] = 127;
    v[static_cast<std::size_t>(ld + cols - 1)] = -128;
  }
  return v;
}

//! The dense (rows, cols) image of a (rows, ld) matrix.
template <class T>
std::vector<T>
dense(std::vector<T> const& v, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  std::vector<T> out(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      out[static_cast<std::size_t>(r * cols + c)] = v[static_cast<std::size_t>(r * ld + c)];
    }
  }
  return out;
}

//! `n` positive scales around `base` (0.5x .. 2x): never zero, all different.
inline std::vector<float> random_scales(std::int64_t n, float base, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(0.5f, 2.0f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) {
    x = dist(gen) * base;
  }
  return v;
}

//! Uniform floats in [-range, range], never exactly zero.
inline std::vector<float> random_floats(std::int64_t n, float range, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-range, range);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) {
    x = dist(gen);
    x = x == 0.0f ? 0.125f : x;
  }
  return v;
}

//! Bytes of the poison pattern: 0xFF.. is NaN in f32, f16 and bf16 and -1 in int32; int32
//! outputs use 0x7fffffff instead (no test accumulator reaches it: |acc| <= K * 2^14 < 2^31 - 1).
constexpr int kGuardElements = 1024;

//! An output buffer of (rows, ld) elements of `type` plus kGuardElements guard elements,
//! poisoned before the run; check() verifies every (r < rows, c < cols) element was written,
//! and that padding columns and the guard region still hold the poison.
struct PoisonedOutput {
  sqc::GemmElement type;
  std::int64_t rows;
  std::int64_t cols;
  std::int64_t ld;
  std::size_t bytes;
  std::vector<unsigned char> poison;
  sqc::DeviceBuffer<unsigned char> buffer;

  PoisonedOutput(sqc::GemmElement t, std::int64_t r, std::int64_t c, std::int64_t ld_)
      : type(t)
      , rows(r)
      , cols(c)
      , ld(ld_)
      , bytes(static_cast<std::size_t>(r * ld_ + kGuardElements) * sqc::element_bytes(t))
      , poison(bytes, 0xFF)
      , buffer(bytes) {
    if (t == sqc::GemmElement::kInt32) {
      std::int32_t const p = 0x7fffffff;
      for (std::size_t i = 0; i < bytes; i += 4) {
        std::memcpy(poison.data() + i, &p, 4);
      }
    }
    buffer.upload(std::span<unsigned char const>(poison));
    SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
  }

  void* data() { return buffer.data(); }

  //! True when no byte of the buffer changed since construction.
  bool untouched() {
    SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<unsigned char> host(bytes);
    buffer.download(std::span<unsigned char>(host));
    SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
    return host == poison;
  }

  //! Downloads, checks poison outside the matrix, and returns the (rows, cols) values as
  //! float (int32 as exact int64 in `ints`).
  std::vector<float> download_checked(std::vector<std::int64_t>* ints = nullptr) {
    SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<unsigned char> host(bytes);
    buffer.download(std::span<unsigned char>(host));
    SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
    std::size_t const eb = sqc::element_bytes(type);
    std::vector<float> values(static_cast<std::size_t>(rows * cols));
    if (ints != nullptr) {
      ints->assign(values.size(), 0);
    }
    std::int64_t unwritten = 0;
    std::int64_t clobbered = 0;
    std::int64_t const total = static_cast<std::int64_t>(bytes / eb);
    for (std::int64_t i = 0; i < total; ++i) {
      std::int64_t const r = i / ld;
      std::int64_t const c = i % ld;
      bool const inside = r < rows && c < cols;
      bool const is_poison = std::memcmp(host.data() + i * eb, poison.data() + i * eb, eb) == 0;
      if (!inside) {
        clobbered += is_poison ? 0 : 1;
        continue;
      }
      unwritten += is_poison ? 1 : 0;
      float v = 0.0f;
      unsigned char const* p = host.data() + i * eb;
      switch (type) {
      case sqc::GemmElement::kInt32: {
        std::int32_t x = 0;
        std::memcpy(&x, p, 4);
        v = static_cast<float>(x);
        if (ints != nullptr) {
          (*ints)[static_cast<std::size_t>(r * cols + c)] = x;
        }
        break;
      }
      case sqc::GemmElement::kFloat32:
        std::memcpy(&v, p, 4);
        break;
      case sqc::GemmElement::kFloat16: {
        __half h;
        std::memcpy(&h, p, 2);
        v = __half2float(h);
        break;
      }
      case sqc::GemmElement::kBFloat16: {
        __nv_bfloat16 h;
        std::memcpy(&h, p, 2);
        v = __bfloat162float(h);
        break;
      }
      }
      values[static_cast<std::size_t>(r * cols + c)] = v;
    }
    CHECK_MESSAGE(unwritten == 0, unwritten, " output elements were never written");
    CHECK_MESSAGE(
        clobbered == 0, clobbered, " elements outside the output (padding/guard) were written");
    return values;
  }
};

//! Error budget of one output type: |got - ref| <= atol + rtol * |ref|.
//! - f32: the device epilogue repeats the CPU's fp32 operations in the same order without FMA,
//!   so results should be bit-identical; 1e-5 leaves room only for a libm-free difference.
//! - f16: one round-to-nearest of the exact fp32 value: relative error <= 2^-11 = 4.9e-4
//!   (normal range); 2e-3 = 4 half-ulps. atol covers the subnormal range (ulp 2^-24).
//! - bf16: 8-bit significand, relative error <= 2^-8 = 3.9e-3; 1e-2 = 2.5 half-ulps.
struct Tolerance {
  double rtol;
  double atol;
};
inline Tolerance tolerance_of(sqc::GemmElement t) {
  switch (t) {
  case sqc::GemmElement::kFloat16:
    return {2e-3, 1e-6};
  case sqc::GemmElement::kBFloat16:
    return {1e-2, 1e-6};
  default:
    return {1e-5, 1e-5};
  }
}

//! Counts elements outside `tol` (with an extra per-element absolute slack, may be empty) and
//! reports the first few.
inline void expect_close(
    std::vector<float> const& got,
    std::vector<float> const& ref,
    Tolerance tol,
    std::int64_t cols,
    std::vector<float> const& slack = {}) {
  REQUIRE(got.size() == ref.size());
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    double const extra = slack.empty() ? 0.0 : static_cast<double>(slack[i]);
    double const err = std::fabs(static_cast<double>(got[i]) - static_cast<double>(ref[i]));
    if (!(err <= tol.atol + tol.rtol * std::fabs(static_cast<double>(ref[i])) + extra)) {
      if (bad < 5) {
        MESSAGE(
            "(",
            static_cast<std::int64_t>(i) / cols,
            ", ",
            static_cast<std::int64_t>(i) % cols,
            "): got ",
            got[i],
            " expected ",
            ref[i]);
      }
      ++bad;
    }
  }
  CHECK_MESSAGE(bad == 0, bad, " of ", got.size(), " elements outside tolerance");
}

//! Host copy of a float vector converted to the element type `t` (bytes), for residuals.
inline std::vector<unsigned char>
to_element_bytes(std::vector<float> const& v, sqc::GemmElement t) {
  std::vector<unsigned char> out(v.size() * sqc::element_bytes(t));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (t == sqc::GemmElement::kFloat16) {
      __half const h = __float2half_rn(v[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    } else if (t == sqc::GemmElement::kBFloat16) {
      __nv_bfloat16 const h = __float2bfloat16_rn(v[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    } else {
      std::memcpy(out.data() + 4 * i, &v[i], 4);
    }
  }
  return out;
}

//! The float values of `v` after a round trip through element type `t` (exact widening).
inline std::vector<float> round_trip(std::vector<float> const& v, sqc::GemmElement t) {
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (t == sqc::GemmElement::kFloat16) {
      out[i] = __half2float(__float2half_rn(v[i]));
    } else if (t == sqc::GemmElement::kBFloat16) {
      out[i] = __bfloat162float(__float2bfloat16_rn(v[i]));
    } else {
      out[i] = v[i];
    }
  }
  return out;
}

}  // namespace spikequant_test::gemm
