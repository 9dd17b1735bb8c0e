// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Example 03: a W8A8 linear layer on the GPU, checked against the CPU reference.
//!
//! What: y = dequant(quant(x) Wq^T) with x (M, K) quantized per token (AQ1) on the GPU by
//! cuda::QuantizeRows, then the INT8 tensor-core GEMM with the dequantization fused
//! (cuda::Int8Gemm), compared with cpu::linear_w8a8 on the same data.
//! Why: the GPU path must give the same INT8 codes as the CPU (shared rounding in
//! core/numeric.hpp) and, with an fp32 output, the same floats.
//! Not covered: per-tensor / static schemes, fp16 activations, tuning (see bench/cuda).
//! Run: build/examples/03_w8a8_linear_cuda/example_03_w8a8_linear_cuda
//!      (prints "no CUDA device: skipped" and exits 0 on a machine without a GPU), or
//!      build/examples/03_w8a8_linear_cuda/example_03_w8a8_linear_cuda_simt: the same source
//!      on the SIMT emulator, on any CPU (docs/simt.md).
#include "spikequant/cpu/linear.hpp"
#include "spikequant/cpu/quantize.hpp"
#include "spikequant/cuda/device/gemm.cuh"
#include "spikequant/cuda/device/quantize.cuh"
#include "spikequant/cuda/runtime/device.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"

#if defined(SPIKEQUANT_SIMT)
// The emulated CUDA runtime's definitions, once per program.
#  define SPIKEQUANT_SIMT_IMPLEMENT
#  include "spikequant/simt/runtime.hpp"
#endif

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace sq = spikequant;
namespace sqc = spikequant::cuda;

int main() {
  if (sqc::device_count() == 0) {
    std::printf("no CUDA device: skipped\n");
    return 0;
  }
  std::int64_t const m = 37;    // tokens
  std::int64_t const k = 1024;  // in_features (the INT8 GEMM needs K % 16 == 0)
  std::int64_t const n = 384;   // out_features

  // Host data: activations with a few spikes, float weights.
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(m * k));  // (M, K) float
  std::vector<float> w(static_cast<std::size_t>(n * k));  // (N, K) float
  for (auto& v : x) {
    v = normal(gen);
  }
  x[5] *= 300.0f;  // an activation spike in token 0
  for (auto& v : w) {
    v = 0.05f * normal(gen);
  }

  // CPU reference: per-channel INT8 weights, per-token INT8 activations, fp32 output.
  auto const wq = sq::cpu::quantize_weight({w.data(), n, k, k});
  std::vector<float> y_ref(static_cast<std::size_t>(m * n));  // (M, N) float
  sq::cpu::linear_w8a8(
      {x.data(), m, k, k}, wq, sq::ActScheme::kPerToken, 0.0f, {}, {y_ref.data(), m, n, n});

  // GPU: quantize x per token, then the INT8 GEMM with fused dequantization.
  sqc::DeviceBuffer<float> d_x{std::span<float const>(x)};
  sqc::DeviceBuffer<std::int8_t> d_xq(static_cast<std::size_t>(m * k));  // (M, K) int8
  sqc::DeviceBuffer<float> d_xs(static_cast<std::size_t>(m));            // M scales
  sqc::DeviceBuffer<std::int8_t> d_wq{std::span<std::int8_t const>(wq.codes)};
  sqc::DeviceBuffer<float> d_ws{std::span<float const>(wq.scales)};
  sqc::DeviceBuffer<float> d_y(static_cast<std::size_t>(m * n));  // (M, N) float

  sqc::QuantizeRows<float>::Arguments qargs{
      {d_x.data(), m, k, k},
      {sq::ActScheme::kPerToken,
       {d_xq.data(), m, k, k},
       {d_xs.data(), static_cast<std::size_t>(m)},
       0.0f,
       {}}};
  sqc::QuantizeRows<float>::run(qargs, nullptr, 0, nullptr);

  sqc::Int8GemmArguments g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = d_xq.data();
  g.lda = k;
  g.b = d_wq.data();
  g.ldb = k;
  g.d = d_y.data();
  g.ldd = n;
  g.d_type = sqc::GemmElement::kFloat32;
  g.epilogue = {d_xs.data(), m, d_ws.data(), n};
  sqc::Int8Gemm::run(g, nullptr);

  std::vector<float> y(y_ref.size());
  d_y.download(y);
  SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());

  // Compare: codes are identical by construction, so the outputs should agree to fp32 rounding.
  double max_err = 0.0;
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    double const err = std::fabs(static_cast<double>(y[i]) - static_cast<double>(y_ref[i]));
    max_err = std::fmax(max_err, err);
    bad += err > 1e-5 + 1e-5 * std::fabs(static_cast<double>(y_ref[i])) ? 1 : 0;
  }
  std::printf(
      "W8A8 linear (M=%lld, N=%lld, K=%lld) on %s: max |gpu - cpu| = %.3g, %lld outside budget\n",
      static_cast<long long>(m),
      static_cast<long long>(n),
      static_cast<long long>(k),
      sqc::device_name().c_str(),
      max_err,
      static_cast<long long>(bad));
  std::printf("%s\n", bad == 0 ? "Passed" : "Failed");
  return bad == 0 ? 0 : 1;
}
