// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Device discovery that never throws on machines without a driver or GPU.
#pragma once

#include "spikequant/cuda/runtime/check.cuh"

#include <cuda_runtime_api.h>
#include <string>

namespace spikequant::inline v0::cuda {

//! Number of usable CUDA devices; 0 (never an exception) when there is no driver or device.
//! - Clears the error cudaGetDeviceCount leaves behind, so later calls are not poisoned.
inline int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

//! True when at least one CUDA device is usable.
inline bool has_device() noexcept {
  return device_count() > 0;
}

//! Compute capability of `device` as major * 10 + minor (e.g. 90 for H100); throws Error(kCuda).
inline int compute_capability(int device = 0) {
  int major = 0;
  int minor = 0;
  SPIKEQUANT_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  SPIKEQUANT_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  return major * 10 + minor;
}

//! Marketing name of `device` ("NVIDIA H100 80GB HBM3"); throws Error(kCuda).
inline std::string device_name(int device = 0) {
  cudaDeviceProp prop{};
  SPIKEQUANT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return prop.name;
}

//! Number of streaming multiprocessors of `device`; throws Error(kCuda).
inline int sm_count(int device = 0) {
  int n = 0;
  SPIKEQUANT_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
  return n;
}

//! L2 cache size in bytes of `device`; throws Error(kCuda).
inline int l2_cache_bytes(int device = 0) {
  int n = 0;
  SPIKEQUANT_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrL2CacheSize, device));
  return n;
}

}  // namespace spikequant::v0::cuda
