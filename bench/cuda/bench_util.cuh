// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Helpers for CUDA benchmarks: rotating buffers over > 2x L2, device-side random fill,
//! CUDA-event timing with warm-up, and the same-size device-to-device copy baseline.
#pragma once

#include "spikequant/cuda/runtime/check.cuh"
#include "spikequant/cuda/runtime/device.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstddef>
#include <cstdint>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace spikequant_bench {

namespace sqc = spikequant::cuda;

template <class T>
__device__ T from_float_dev(float x) {
  if constexpr (std::is_same_v<T, __half>) {
    return __float2half_rn(x);
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __float2bfloat16_rn(x);
  } else {
    return x;
  }
}

//! Fills p[0, n) with hash-based values in [-4, 4), one in 512 multiplied by 100 (spikes),
//! never exactly zero.
template <class T>
__global__ void fill_random_kernel(T* p, std::size_t n, std::uint64_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
       i += std::size_t{gridDim.x} * blockDim.x) {
    std::uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;  // splitmix64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    float v = static_cast<float>(z >> 40) * (8.0f / 16777216.0f) - 4.0f;
    v = (z & 511u) == 0 ? v * 100.0f : v;
    p[i] = from_float_dev<T>(v == 0.0f ? 0.25f : v);
  }
}

template <class T>
void fill_random(T* p, std::size_t n, std::uint64_t seed) {
  fill_random_kernel<T><<<1024, 256>>>(p, n, seed);
  SPIKEQUANT_CUDA_CHECK(cudaGetLastError());
}

//! `sets` copies of an operand of `count` elements, each set starting 256-byte aligned, so
//! consecutive iterations touch different memory and the L2 cannot serve them.
template <class T>
struct Ring {
  std::size_t stride = 0;  // elements between sets
  int sets = 0;
  sqc::DeviceBuffer<T> buffer;
  Ring(std::size_t count, int sets_)
      : stride((count * sizeof(T) + 255) / 256 * 256 / sizeof(T))
      , sets(sets_)
      , buffer(stride * static_cast<std::size_t>(sets_)) {}
  T* at(int i) { return buffer.data() + stride * static_cast<std::size_t>(i % sets); }
};

//! Number of rotating sets so that all sets together cover at least 2.5x the L2 cache.
inline int ring_sets(std::size_t bytes_per_set) {
  auto const l2 = static_cast<std::size_t>(sqc::l2_cache_bytes());
  auto const need = (5 * l2 / 2 + bytes_per_set - 1) / std::max<std::size_t>(bytes_per_set, 1);
  return static_cast<int>(std::clamp<std::size_t>(need, 2, 4096));
}

//! Times `enqueue(i)` (i = iteration, to rotate buffers) with a CUDA event pair per iteration
//! after `warmup` untimed runs; returns the mean seconds per iteration.
template <class F>
double time_loop(benchmark::State& state, F&& enqueue, int warmup = 5) {
  cudaEvent_t start{};
  cudaEvent_t stop{};
  SPIKEQUANT_CUDA_CHECK(cudaEventCreate(&start));
  SPIKEQUANT_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < warmup; ++i) {
    enqueue(i);
  }
  SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
  double total = 0.0;
  std::int64_t n = 0;
  int i = warmup;
  for (auto _ : state) {
    SPIKEQUANT_CUDA_CHECK(cudaEventRecord(start, nullptr));
    enqueue(i++);
    SPIKEQUANT_CUDA_CHECK(cudaEventRecord(stop, nullptr));
    SPIKEQUANT_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    SPIKEQUANT_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(static_cast<double>(ms) * 1e-3);
    total += static_cast<double>(ms) * 1e-3;
    ++n;
  }
  SPIKEQUANT_CUDA_CHECK(cudaEventDestroy(start));
  SPIKEQUANT_CUDA_CHECK(cudaEventDestroy(stop));
  return n > 0 ? total / static_cast<double>(n) : 0.0;
}

//! GB/s of a device-to-device cudaMemcpyAsync that moves the same traffic (`bytes` read +
//! written in total, so bytes / 2 copied), over rotating buffers, median of 21 event-timed runs.
inline double copy_gbps(std::size_t bytes) {
  std::size_t const half = std::max<std::size_t>(bytes / 2, 256);
  int const sets = ring_sets(2 * half);
  Ring<std::byte> src(half, sets);
  Ring<std::byte> dst(half, sets);
  cudaEvent_t start{};
  cudaEvent_t stop{};
  SPIKEQUANT_CUDA_CHECK(cudaEventCreate(&start));
  SPIKEQUANT_CUDA_CHECK(cudaEventCreate(&stop));
  float times[21];
  for (int i = 0; i < 26; ++i) {
    SPIKEQUANT_CUDA_CHECK(cudaEventRecord(start, nullptr));
    SPIKEQUANT_CUDA_CHECK(
        cudaMemcpyAsync(dst.at(i), src.at(i), half, cudaMemcpyDeviceToDevice, nullptr));
    SPIKEQUANT_CUDA_CHECK(cudaEventRecord(stop, nullptr));
    SPIKEQUANT_CUDA_CHECK(cudaEventSynchronize(stop));
    if (i >= 5) {
      SPIKEQUANT_CUDA_CHECK(cudaEventElapsedTime(&times[i - 5], start, stop));
    }
  }
  SPIKEQUANT_CUDA_CHECK(cudaEventDestroy(start));
  SPIKEQUANT_CUDA_CHECK(cudaEventDestroy(stop));
  std::nth_element(times, times + 10, times + 21);
  return 2.0 * static_cast<double>(half) / (static_cast<double>(times[10]) * 1e-3) / 1e9;
}

//! Sets the counters every memory-bound benchmark reports: GBps (minimum bytes moved / time),
//! copy_GBps (same-traffic D2D copy in this run) and ratio_to_copy.
inline void
report_bandwidth(benchmark::State& state, std::size_t bytes, double seconds, double copy) {
  double const gbps = seconds > 0.0 ? static_cast<double>(bytes) / seconds / 1e9 : 0.0;
  state.counters["GBps"] = gbps;
  state.counters["copy_GBps"] = copy;
  state.counters["ratio_to_copy"] = copy > 0.0 ? gbps / copy : 0.0;
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
}

}  // namespace spikequant_bench
