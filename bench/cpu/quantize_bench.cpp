// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CPU quantize throughput per granularity (dynamic AbsMax and static), bytes = float in
//! plus int8 codes out.
#include "spikequant/cpu/quantize.hpp"

#include <benchmark/benchmark.h>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace spikequant;

//! (M, K) activations: U(-1, 1) from a fixed seed.
std::vector<float> make_input(std::int64_t m, std::int64_t k) {
  std::vector<float> x(static_cast<std::size_t>(m * k));  // (M, K) row-major
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (auto& v : x) {
    v = d(gen);
  }
  return x;
}

template <class G, bool Static>
void bm_quantize(benchmark::State& state) {
  std::int64_t const m = state.range(0);
  std::int64_t const k = state.range(1);
  auto const x = make_input(m, k);                                  // (M, K) float
  std::vector<std::int8_t> codes(static_cast<std::size_t>(m * k));  // (M, K) int8
  std::vector<float> scales(static_cast<std::size_t>(cpu::scale_count<G>(m, k)), 1.0f / 127.0f);
  MatrixRef<float const> const xr{x.data(), m, k, k};
  MatrixRef<std::int8_t> const cr{codes.data(), m, k, k};
  for (auto _ : state) {
    if constexpr (Static) {
      cpu::quantize_static<G>(xr, scales, cr);
    } else {
      cpu::quantize_dynamic<G>(xr, cr, scales);
    }
    benchmark::DoNotOptimize(codes.data());
    benchmark::ClobberMemory();
  }
  // Bytes touched once per iteration: the float input and the int8 codes (scales are noise).
  state.SetBytesProcessed(
      state.iterations() * m * k * static_cast<std::int64_t>(sizeof(float) + sizeof(std::int8_t)));
}

template <class G, bool Static>
void add(std::string const& scheme) {
  // LLaMA-7B hidden (4096) and FFN (11008) widths at a decode-ish and a prefill-ish M.
  auto* b = benchmark::RegisterBenchmark(
      ("Cpu_Quantize_f32s8/" + scheme).c_str(), bm_quantize<G, Static>);
  b->ArgNames({"M", "K"})->Args({16, 4096})->Args({128, 4096})->Args({128, 11008});
  b->Unit(benchmark::kMicrosecond);
}

[[maybe_unused]] bool const registered = [] {
  add<granularity::PerTensor, false>("PerTensor_Dynamic_AbsMax");
  add<granularity::PerToken, false>("PerToken_Dynamic_AbsMax");
  add<granularity::PerGroup<128>, false>("PerGroup128_Dynamic_AbsMax");
  add<granularity::PerTensor, true>("PerTensor_Static");
  add<granularity::PerGroup<128>, true>("PerGroup128_Static");
  return true;
}();

}  // namespace
