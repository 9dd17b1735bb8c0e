// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU INT8 GEMM (cpu::gemm_s8s8s32, int32 accumulation), W8A8 and W8A16 linear against
//! an Eigen float GEMM at LLaMA-like shapes; the float time is measured in the same run.
#include "spikequant/cpu/gemm.hpp"
#include "spikequant/cpu/linear.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <benchmark/benchmark.h>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <vector>

namespace {

using namespace spikequant;
using Clock = std::chrono::steady_clock;

template <class T>
std::vector<T> random_vec(std::int64_t n, unsigned seed) {
  std::vector<T> v(static_cast<std::size_t>(n));
  std::mt19937 gen(seed);
  if constexpr (std::is_floating_point_v<T>) {
    std::uniform_real_distribution<T> d(-1, 1);
    for (auto& x : v)
      x = d(gen);
  } else {
    std::uniform_int_distribution<int> d(-127, 127);
    for (auto& x : v)
      x = static_cast<T>(d(gen));
  }
  return v;
}

//! Seconds per y = x W^T in float with Eigen (x (M, K), W (N, K)), the median of 3 timed runs
//! after one warm-up, measured once per shape and cached for the whole process, so every
//! ratio in one report is against the same baseline.
double eigen_f32_seconds(std::int64_t m, std::int64_t n, std::int64_t k) {
  static std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, double> cache;
  auto const key = std::make_tuple(m, n, k);
  if (auto it = cache.find(key); it != cache.end()) {
    return it->second;
  }
  auto const x = random_vec<float>(m * k, 1);  // (M, K)
  auto const w = random_vec<float>(n * k, 2);  // (N, K)
  cpu::RowMajorMatrix<float> y(m, n);          // (M, N)
  auto const run = [&] {
    cpu::linear_float({x.data(), m, k, k}, {w.data(), n, k, k}, {}, {y.data(), m, n, n});
    benchmark::DoNotOptimize(y.data());
  };
  run();
  std::vector<double> t;
  for (int i = 0; i < 3; ++i) {
    auto const t0 = Clock::now();
    run();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return cache[key] = t[1];
}

void set_counters(
    benchmark::State& state, std::int64_t m, std::int64_t n, std::int64_t k, double seconds_total) {
  double const ops = 2.0 * static_cast<double>(m * n * k);
  // ops/s: multiply-adds count 2 (the convention for GEMM TOPS).
  state.counters["ops_per_s"] = benchmark::Counter(
      ops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  double const ours = seconds_total / static_cast<double>(state.iterations());
  // > 1: faster than the Eigen float GEMM of the same shape measured in this run.
  state.counters["ratio_vs_eigen_f32"] = eigen_f32_seconds(m, n, k) / ours;
}

//! Runs `body` once per benchmark iteration and returns the seconds spent in it, in total.
template <class Body>
double timed_loop(benchmark::State& state, Body&& body) {
  double total = 0.0;
  for (auto _ : state) {
    auto const t0 = Clock::now();
    body();
    total += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  return total;
}

//! Cpu_F32Gemm_eigen: the float baseline itself (y = x W^T).
void bm_f32_eigen(benchmark::State& state) {
  std::int64_t const m = state.range(0);
  std::int64_t const n = state.range(1);
  std::int64_t const k = state.range(2);
  auto const x = random_vec<float>(m * k, 1);  // (M, K)
  auto const w = random_vec<float>(n * k, 2);  // (N, K)
  cpu::RowMajorMatrix<float> y(m, n);          // (M, N)
  double const total = timed_loop(state, [&] {
    cpu::linear_float({x.data(), m, k, k}, {w.data(), n, k, k}, {}, {y.data(), m, n, n});
    benchmark::DoNotOptimize(y.data());
  });
  set_counters(state, m, n, k, total);
}

//! Cpu_Int8Gemm_s8s8s32: int8 x int8 -> int32 accumulator only.
void bm_int8_gemm(benchmark::State& state) {
  std::int64_t const m = state.range(0);
  std::int64_t const n = state.range(1);
  std::int64_t const k = state.range(2);
  auto const a = random_vec<std::int8_t>(m * k, 3);  // (M, K) int8
  auto const b = random_vec<std::int8_t>(n * k, 4);  // (N, K) int8
  cpu::RowMajorMatrix<std::int32_t> acc(m, n);       // (M, N) int32
  double const total = timed_loop(state, [&] {
    cpu::gemm_s8s8s32({a.data(), m, k, k}, {b.data(), n, k, k}, {acc.data(), m, n, n});
    benchmark::DoNotOptimize(acc.data());
  });
  state.SetBytesProcessed(state.iterations() * (m * k + n * k + 4 * m * n));
  set_counters(state, m, n, k, total);
}

//! Cpu_W8A8Linear_s8s8f32/PerToken_AbsMax: quantize + INT8 GEMM + dequant epilogue (AQ1).
void bm_w8a8_linear(benchmark::State& state) {
  std::int64_t const m = state.range(0);
  std::int64_t const n = state.range(1);
  std::int64_t const k = state.range(2);
  auto const x = random_vec<float>(m * k, 1);  // (M, K)
  auto const w = random_vec<float>(n * k, 2);  // (N, K)
  auto const q = cpu::quantize_weight({w.data(), n, k, k});
  cpu::RowMajorMatrix<float> y(m, n);  // (M, N)
  double const total = timed_loop(state, [&] {
    cpu::linear_w8a8<AQ1>({x.data(), m, k, k}, q, {y.data(), m, n, n});
    benchmark::DoNotOptimize(y.data());
  });
  set_counters(state, m, n, k, total);
}

//! Cpu_W8A16Linear_f32s8f32: INT8 per-channel weight, float activation (QFeM's excluded
//! modules): float GEMM on the weight codes, then the per-channel scale.
void bm_w8a16_linear(benchmark::State& state) {
  std::int64_t const m = state.range(0);
  std::int64_t const n = state.range(1);
  std::int64_t const k = state.range(2);
  auto const x = random_vec<float>(m * k, 1);  // (M, K)
  auto const w = random_vec<float>(n * k, 2);  // (N, K)
  auto const q = cpu::quantize_weight({w.data(), n, k, k});
  cpu::RowMajorMatrix<float> y(m, n);  // (M, N)
  double const total = timed_loop(state, [&] {
    cpu::linear_w8a16({x.data(), m, k, k}, q, {}, {y.data(), m, n, n});
    benchmark::DoNotOptimize(y.data());
  });
  set_counters(state, m, n, k, total);
}

void shapes(benchmark::internal::Benchmark* b) {
  // LLaMA-7B: q/k/v/o and gate/up are (4096 x 4096) and (11008 x 4096); M = 16 (decode batch)
  // and 128 (a prefill chunk). Each point runs one or a few iterations on a 2-core machine.
  b->ArgNames({"M", "N", "K"});
  for (std::int64_t m : {16, 128}) {
    b->Args({m, 4096, 4096});
    b->Args({m, 11008, 4096});
  }
  // stories260K (dim 64, FFN 172) on a 256-token eval window: up/gate and down, where
  // per-call overheads (allocation, conversion, quantize) weigh as much as the multiply.
  b->Args({256, 172, 64});
  b->Args({256, 64, 172});
  b->Unit(benchmark::kMillisecond);
  b->UseRealTime();
}

}  // namespace

BENCHMARK(bm_f32_eigen)->Name("Cpu_F32Gemm_eigen")->Apply(shapes);
BENCHMARK(bm_int8_gemm)->Name("Cpu_Int8Gemm_s8s8s32")->Apply(shapes);
BENCHMARK(bm_w8a8_linear)->Name("Cpu_W8A8Linear_s8s8f32/PerToken_AbsMax")->Apply(shapes);
BENCHMARK(bm_w8a16_linear)->Name("Cpu_W8A16Linear_f32s8f32")->Apply(shapes);
