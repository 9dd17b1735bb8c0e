// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Shared main of the CUDA benchmarks: skips cleanly (exit 0) when no device exists and
//! records the device in the benchmark context.
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cuda_runtime_api.h>
#include <string>

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    listing = listing || std::string(argv[i]).starts_with("--benchmark_list_tests");
  }
  benchmark::Initialize(&argc, argv);
  int devices = 0;
  if (!listing && (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)) {
    (void)cudaGetLastError();
    std::printf("no CUDA device: skipped (%s)\n", argv[0]);
    return 0;
  }
  cudaDeviceProp prop{};
  if (!listing && cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
    benchmark::AddCustomContext("cuda_device", prop.name);
    benchmark::AddCustomContext(
        "cuda_cc", std::to_string(prop.major) + "." + std::to_string(prop.minor));
    benchmark::AddCustomContext("cuda_l2_bytes", std::to_string(prop.l2CacheSize));
  }
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
