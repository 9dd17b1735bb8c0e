// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file GEMM benchmarks on LLaMA-2-7B shapes: cuBLAS FP16 (the speed to beat), cuBLASLt INT8
//! (int32 out, and + our dequant kernel), our fused sm_80 INT8 GEMM (f16 out) and our W8A16.
//! Reports TOPS = 2 M N K / time. Every iteration uses a different operand set; the sets cover
//! more than 2x the L2 cache, so weights and activations come from HBM as in a real forward.
//! Run: bench_cuda_gemm --benchmark_counters_tabular=true [--benchmark_filter=Gemm/sm80]
//! Without a GPU it prints "no CUDA device: skipped" and exits 0 (bench_main.cpp).
#include "bench_util.cuh"
#include "spikequant/cuda/device/cublaslt_int8_gemm.cuh"
#include "spikequant/cuda/device/gemm.cuh"
#include "spikequant/cuda/device/w8a16_gemm.cuh"
#include "spikequant/cuda/kernel/dequant_epilogue.cuh"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstddef>
#include <cstdint>
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <string>
#include <utility>

namespace {
namespace sqc = spikequant::cuda;
using spikequant_bench::Ring;
using spikequant_bench::ring_sets;
using spikequant_bench::time_loop;

__global__ void fill_int8_kernel(std::int8_t* p, std::size_t n, std::uint64_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
       i += std::size_t{gridDim.x} * blockDim.x) {
    std::uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;  // splitmix64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    int const v = static_cast<int>(z % 255u) - 127;  // [-127, 127]
    p[i] = static_cast<std::int8_t>(v == 0 ? 1 : v);
  }
}

__global__ void fill_value_kernel(float* p, std::size_t n, float v) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
       i += std::size_t{gridDim.x} * blockDim.x) {
    p[i] = v;
  }
}

void fill_int8(std::int8_t* p, std::size_t n, std::uint64_t seed) {
  fill_int8_kernel<<<1024, 256>>>(p, n, seed);
  SPIKEQUANT_CUDA_CHECK(cudaGetLastError());
}

void fill_value(float* p, std::size_t n, float v) {
  fill_value_kernel<<<256, 256>>>(p, n, v);
  SPIKEQUANT_CUDA_CHECK(cudaGetLastError());
}

cublasHandle_t cublas_handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t x = nullptr;
    SPIKEQUANT_CUBLAS_CHECK(cublasCreate(&x));
    return x;
  }();
  return h;
}

cublasLtHandle_t cublaslt_handle() {
  static cublasLtHandle_t h = [] {
    cublasLtHandle_t x = nullptr;
    SPIKEQUANT_CUBLAS_CHECK(cublasLtCreate(&x));
    return x;
  }();
  return h;
}

struct Problem {
  std::int64_t m, n, k;
  [[nodiscard]] std::size_t mk() const { return static_cast<std::size_t>(m * k); }
  [[nodiscard]] std::size_t nk() const { return static_cast<std::size_t>(n * k); }
  [[nodiscard]] std::size_t mn() const { return static_cast<std::size_t>(m * n); }
  [[nodiscard]] double ops() const {
    return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  }
};

Problem problem_of(benchmark::State const& state) {
  return {state.range(0), state.range(1), state.range(2)};
}

void report(benchmark::State& state, Problem p, double seconds) {
  state.counters["TOPS"] = seconds > 0.0 ? p.ops() / seconds / 1e12 : 0.0;
}

// cuBLAS FP16 in/out, FP32 accumulate (CUBLAS_COMPUTE_32F): row-major C = A B^T computed as
// column-major C^T (N, M) = B^T(op T on the (K, N) column-major view of B) * A (K, M).
void bm_cublas_f16(benchmark::State& state) {
  Problem const p = problem_of(state);
  int const sets = ring_sets((p.mk() + p.nk() + p.mn()) * sizeof(__half));
  Ring<__half> a(p.mk(), sets), b(p.nk(), sets), c(p.mn(), sets);
  spikequant_bench::fill_random(a.buffer.data(), a.buffer.size(), 1);
  spikequant_bench::fill_random(b.buffer.data(), b.buffer.size(), 2);
  float const alpha = 1.0f;
  float const beta = 0.0f;
  SPIKEQUANT_CUBLAS_CHECK(cublasSetStream(cublas_handle(), nullptr));
  double const s = time_loop(state, [&](int i) {
    SPIKEQUANT_CUBLAS_CHECK(cublasGemmEx(
        cublas_handle(),
        CUBLAS_OP_T,
        CUBLAS_OP_N,
        static_cast<int>(p.n),
        static_cast<int>(p.m),
        static_cast<int>(p.k),
        &alpha,
        b.at(i),
        CUDA_R_16F,
        static_cast<int>(p.k),
        a.at(i),
        CUDA_R_16F,
        static_cast<int>(p.k),
        &beta,
        c.at(i),
        CUDA_R_16F,
        static_cast<int>(p.n),
        CUBLAS_COMPUTE_32F,
        CUBLAS_GEMM_DEFAULT));
  });
  report(state, p, s);
  state.counters["sets"] = sets;
}

// cuBLASLt INT8 (IMMA, TN) -> int32; with `dequant`, + our dequant kernel to f16 (per token x
// per channel), the unfused baseline of the fused kernel.
void bm_cublaslt_s8(benchmark::State& state, bool dequant) {
  Problem const p = problem_of(state);
  std::size_t const set_bytes = p.mk() + p.nk() + p.mn() * 4 + (dequant ? p.mn() * 2 : 0);
  int const sets = ring_sets(set_bytes);
  Ring<std::int8_t> a(p.mk(), sets), b(p.nk(), sets);
  Ring<std::int32_t> c(p.mn(), sets);
  Ring<__half> d(dequant ? p.mn() : 1, sets);
  fill_int8(a.buffer.data(), a.buffer.size(), 1);
  fill_int8(b.buffer.data(), b.buffer.size(), 2);
  sqc::DeviceBuffer<float> act(static_cast<std::size_t>(p.m));
  sqc::DeviceBuffer<float> w(static_cast<std::size_t>(p.n));
  fill_value(act.data(), act.size(), 1.0f / 127.0f);
  fill_value(w.data(), w.size(), 1.0f / 127.0f);
  sqc::CublasLtInt8Gemm const gemm(cublaslt_handle(), {p.m, p.n, p.k, p.k, p.k, p.n});
  sqc::DeviceBuffer<std::byte> ws(std::max<std::size_t>(gemm.workspace_size(), 256));
  double const s = time_loop(state, [&](int i) {
    gemm.run(a.at(i), b.at(i), c.at(i), ws.data(), ws.bytes(), nullptr);
    if (dequant) {
      sqc::DequantKernelArguments args;
      args.m = p.m;
      args.n = p.n;
      args.acc = c.at(i);
      args.ld_acc = p.n;
      args.d = d.at(i);
      args.ldd = p.n;
      args.d_type = sqc::GemmElement::kFloat16;
      args.epilogue = {act.data(), p.m, w.data(), p.n};
      sqc::run_dequant_epilogue(args, nullptr);
    }
  });
  report(state, p, s);
  state.counters["sets"] = sets;
}

// Our sm_80 INT8 GEMM with the fused epilogue: f16 out, per token x per channel.
void bm_sm80_s8_fused(benchmark::State& state) {
  Problem const p = problem_of(state);
  int const sets = ring_sets(p.mk() + p.nk() + p.mn() * 2);
  Ring<std::int8_t> a(p.mk(), sets), b(p.nk(), sets);
  Ring<__half> d(p.mn(), sets);
  fill_int8(a.buffer.data(), a.buffer.size(), 1);
  fill_int8(b.buffer.data(), b.buffer.size(), 2);
  sqc::DeviceBuffer<float> act(static_cast<std::size_t>(p.m));
  sqc::DeviceBuffer<float> w(static_cast<std::size_t>(p.n));
  fill_value(act.data(), act.size(), 1.0f / 127.0f);
  fill_value(w.data(), w.size(), 1.0f / 127.0f);
  double const s = time_loop(state, [&](int i) {
    sqc::Int8GemmArguments args;
    args.m = p.m;
    args.n = p.n;
    args.k = p.k;
    args.a = a.at(i);
    args.lda = p.k;
    args.b = b.at(i);
    args.ldb = p.k;
    args.d = d.at(i);
    args.ldd = p.n;
    args.d_type = sqc::GemmElement::kFloat16;
    args.epilogue = {act.data(), p.m, w.data(), p.n};
    sqc::Int8Gemm::run(args, nullptr);
  });
  report(state, p, s);
  state.counters["sets"] = sets;
}

// Our W8A16 GEMM: f16 activations, int8 per-channel weights, f16 out.
void bm_sm80_w8a16(benchmark::State& state) {
  Problem const p = problem_of(state);
  int const sets = ring_sets(p.mk() * 2 + p.nk() + p.mn() * 2);
  Ring<__half> x(p.mk(), sets), d(p.mn(), sets);
  Ring<std::int8_t> w(p.nk(), sets);
  spikequant_bench::fill_random(x.buffer.data(), x.buffer.size(), 1);
  fill_int8(w.buffer.data(), w.buffer.size(), 2);
  sqc::DeviceBuffer<float> scales(static_cast<std::size_t>(p.n));
  fill_value(scales.data(), scales.size(), 1.0f / 127.0f);
  double const s = time_loop(state, [&](int i) {
    sqc::W8A16GemmArguments args;
    args.m = p.m;
    args.n = p.n;
    args.k = p.k;
    args.x = x.at(i);
    args.ldx = p.k;
    args.x_type = sqc::GemmElement::kFloat16;
    args.w = w.at(i);
    args.ldw = p.k;
    args.w_scales = scales.data();
    args.d = d.at(i);
    args.ldd = p.n;
    args.d_type = sqc::GemmElement::kFloat16;
    sqc::W8A16Gemm::run(args, nullptr);
  });
  report(state, p, s);
  state.counters["sets"] = sets;
}

// LLaMA-2-7B: M tokens x (N, K) = q/k/v/o (4096, 4096), fused qkv (12288, 4096),
// fused gate+up (22016, 4096), down (4096, 11008).
void shapes(benchmark::internal::Benchmark* b) {
  for (std::int64_t m : {16, 128, 2048, 4096}) {
    for (auto [n, k] :
         {std::pair<std::int64_t, std::int64_t>{4096, 4096},
          {12288, 4096},
          {22016, 4096},
          {4096, 11008}}) {
      b->Args({m, n, k});
    }
  }
  b->ArgNames({"M", "N", "K"})->UseManualTime()->MinTime(0.1)->Unit(benchmark::kMicrosecond);
}

// Registered at static-initialisation time; bench_main.cpp skips everything without a device.
int const registered = [] {
  shapes(benchmark::RegisterBenchmark("Gemm/cublas_f16", bm_cublas_f16));
  shapes(benchmark::RegisterBenchmark(
      "Gemm/cublaslt_s8", [](benchmark::State& st) { bm_cublaslt_s8(st, false); }));
  shapes(benchmark::RegisterBenchmark(
      "Gemm/cublaslt_s8_dequant", [](benchmark::State& st) { bm_cublaslt_s8(st, true); }));
  shapes(benchmark::RegisterBenchmark("Gemm/sm80_s8_fused", bm_sm80_s8_fused));
  shapes(benchmark::RegisterBenchmark("Gemm/sm80_w8a16", bm_sm80_w8a16));
  return 0;
}();

}  // namespace
