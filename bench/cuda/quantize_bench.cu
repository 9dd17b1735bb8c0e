// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Bandwidth of the row kernels: quantize (per-token, per-tensor, static), GLU(+quantize)
//! and RMSNorm(+quantize), each next to a same-traffic device-to-device copy of this run.
//! - GBps counts the minimum traffic (inputs read once, outputs written once), so per-tensor
//!   variants, which read their input twice, show it as a lower GBps.
//! - Buffers rotate over >= 2.5x L2; data is random with spikes; CUDA-event timing after warm-up.
//! Run: bench_cuda_quantize --benchmark_filter=QuantizeRows --benchmark_counters_tabular=true
#include "bench_util.cuh"
#include "spikequant/cuda/device/glu.cuh"
#include "spikequant/cuda/device/quantize.cuh"
#include "spikequant/cuda/device/rmsnorm.cuh"

#include <benchmark/benchmark.h>
#include <cstdint>
#include <string>

namespace {
namespace sq = spikequant;
namespace sqc = spikequant::cuda;
using namespace spikequant_bench;

//! Output kinds of the benchmarks: a quantization scheme, or the float output.
enum class Out { kFloat, kPerToken, kPerTensor, kStatic };

char const* out_name(Out o) {
  switch (o) {
  case Out::kFloat:
    return "Float";
  case Out::kPerToken:
    return "PerToken";
  case Out::kPerTensor:
    return "PerTensor";
  case Out::kStatic:
    return "Static";
  }
  return "?";
}

sq::ActScheme scheme_of(Out o) {
  return o == Out::kPerTensor
             ? sq::ActScheme::kPerTensor
             : (o == Out::kStatic ? sq::ActScheme::kStatic : sq::ActScheme::kPerToken);
}

//! Output ring for (M, K): codes + scales, or float values.
struct Outputs {
  Out kind;
  std::int64_t m, k;
  Ring<std::int8_t> codes;
  Ring<float> scales;
  Ring<float> values;
  Outputs(Out kind_, std::int64_t m_, std::int64_t k_, int sets)
      : kind(kind_)
      , m(m_)
      , k(k_)
      , codes(kind_ == Out::kFloat ? 0 : static_cast<std::size_t>(m_ * k_), sets)
      , scales(kind_ == Out::kFloat ? 0 : static_cast<std::size_t>(m_), sets)
      , values(kind_ == Out::kFloat ? static_cast<std::size_t>(m_ * k_) : 0, sets) {}
  sqc::RowsOutput at(int i) {
    if (kind == Out::kFloat) {
      return {sq::ActScheme::kPerToken, {}, {}, 0.0f, {values.at(i), m, k, k}};
    }
    std::size_t const n = kind == Out::kPerToken ? static_cast<std::size_t>(m) : 1;
    return {scheme_of(kind), {codes.at(i), m, k, k}, {scales.at(i), n}, 0.05f, {}};
  }
  //! Bytes the kernel writes: floats, or codes + scales.
  static std::size_t written(Out kind, std::int64_t m, std::int64_t k) {
    auto const mk = static_cast<std::size_t>(m * k);
    if (kind == Out::kFloat) {
      return 4 * mk;
    }
    return mk + 4 * (kind == Out::kPerToken ? static_cast<std::size_t>(m) : 1);
  }
};

template <class T>
void bm_quantize(benchmark::State& state, Out out_kind) {
  auto const m = state.range(0);
  auto const k = state.range(1);
  auto const mk = static_cast<std::size_t>(m * k);
  std::size_t const traffic = mk * sizeof(T) + Outputs::written(out_kind, m, k);
  int const sets = ring_sets(traffic);
  Ring<T> x(mk, sets);
  fill_random(x.buffer.data(), x.buffer.size(), 1);
  Outputs outs(out_kind, m, k, sets);
  sqc::DeviceBuffer<std::byte> ws(4);
  double const copy = copy_gbps(traffic);
  using Q = sqc::QuantizeRows<T>;
  double const s = time_loop(state, [&](int i) {
    Q::run({{x.at(i), m, k, k}, outs.at(i)}, ws.data(), ws.size(), nullptr);
  });
  report_bandwidth(state, traffic, s, copy);
}

template <class T, class A>
void bm_glu(benchmark::State& state, Out out_kind) {
  auto const m = state.range(0);
  auto const k = state.range(1);
  auto const mk = static_cast<std::size_t>(m * k);
  std::size_t const traffic = 2 * mk * sizeof(T) + Outputs::written(out_kind, m, k);
  int const sets = ring_sets(traffic);
  Ring<T> gate(mk, sets);
  Ring<T> up(mk, sets);
  fill_random(gate.buffer.data(), gate.buffer.size(), 2);
  fill_random(up.buffer.data(), up.buffer.size(), 3);
  Outputs outs(out_kind, m, k, sets);
  sqc::DeviceBuffer<std::byte> ws(4);
  double const copy = copy_gbps(traffic);
  using G = sqc::GluQuantize<T, A>;
  double const s = time_loop(state, [&](int i) {
    G::run({{gate.at(i), m, k, k}, {up.at(i), m, k, k}, outs.at(i)}, ws.data(), ws.size(), nullptr);
  });
  report_bandwidth(state, traffic, s, copy);
}

template <class T>
void bm_rmsnorm(benchmark::State& state, Out out_kind) {
  auto const m = state.range(0);
  auto const k = state.range(1);
  auto const mk = static_cast<std::size_t>(m * k);
  std::size_t const traffic =
      mk * sizeof(T) + static_cast<std::size_t>(k) * sizeof(T) + Outputs::written(out_kind, m, k);
  int const sets = ring_sets(traffic);
  Ring<T> x(mk, sets);
  sqc::DeviceBuffer<T> w(static_cast<std::size_t>(k));
  fill_random(x.buffer.data(), x.buffer.size(), 4);
  fill_random(w.data(), w.size(), 5);
  Outputs outs(out_kind, m, k, sets);
  sqc::DeviceBuffer<std::byte> ws(4);
  double const copy = copy_gbps(traffic);
  using R = sqc::RmsNormQuantize<T>;
  double const s = time_loop(state, [&](int i) {
    R::run(
        {{x.at(i), m, k, k}, std::span<T const>(w.data(), w.size()), 1e-5f, outs.at(i)},
        ws.data(),
        ws.size(),
        nullptr);
  });
  report_bandwidth(state, traffic, s, copy);
}

//! A plain device-to-device copy of M * K * 2 bytes (read + write = 4 * M * K bytes).
void bm_copy(benchmark::State& state) {
  auto const bytes = static_cast<std::size_t>(state.range(0) * state.range(1) * 2);
  int const sets = ring_sets(2 * bytes);
  Ring<std::byte> src(bytes, sets);
  Ring<std::byte> dst(bytes, sets);
  double const s = time_loop(state, [&](int i) {
    SPIKEQUANT_CUDA_CHECK(
        cudaMemcpyAsync(dst.at(i), src.at(i), bytes, cudaMemcpyDeviceToDevice, nullptr));
  });
  report_bandwidth(state, 2 * bytes, s, 0.0);
  state.counters["ratio_to_copy"] = 1.0;
}

void shapes(benchmark::internal::Benchmark* b) {
  for (std::int64_t m : {16, 2048, 4096}) {
    for (std::int64_t k : {4096, 11008}) {
      b->Args({m, k});
    }
  }
  b->ArgNames({"M", "K"})->UseManualTime()->MinTime(0.1)->Unit(benchmark::kMicrosecond);
}

template <class T>
void register_type() {
  std::string const t = sqc::element_name<T>;
  for (Out o : {Out::kPerToken, Out::kPerTensor, Out::kStatic}) {
    shapes(benchmark::RegisterBenchmark(
        ("Sm80_QuantizeRows/" + std::string(out_name(o)) + "/" + t).c_str(),
        [o](benchmark::State& st) { bm_quantize<T>(st, o); }));
  }
  if constexpr (!std::is_same_v<T, float>) {
    for (Out o : {Out::kFloat, Out::kPerToken, Out::kPerTensor, Out::kStatic}) {
      shapes(benchmark::RegisterBenchmark(
          ("Sm80_SwiGlu/" + std::string(out_name(o)) + "/" + t).c_str(),
          [o](benchmark::State& st) { bm_glu<T, sq::activation::Silu>(st, o); }));
      shapes(benchmark::RegisterBenchmark(
          ("Sm80_RmsNorm/" + std::string(out_name(o)) + "/" + t).c_str(),
          [o](benchmark::State& st) { bm_rmsnorm<T>(st, o); }));
    }
  }
}

// Registered at static-initialisation time; bench_main.cpp skips everything without a device.
int const registered = [] {
  shapes(benchmark::RegisterBenchmark("Sm80_Copy/D2D/f16", bm_copy));
  register_type<__half>();
  register_type<__nv_bfloat16>();
  register_type<float>();
  for (Out o : {Out::kFloat, Out::kPerToken, Out::kPerTensor}) {
    shapes(benchmark::RegisterBenchmark(
        ("Sm80_GeGlu/" + std::string(out_name(o)) + "/f16").c_str(),
        [o](benchmark::State& st) { bm_glu<__half, sq::activation::GeluTanh>(st, o); }));
  }
  return 0;
}();

}  // namespace
