// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The one generic __global__ entry (CUTLASS device_kernel) and a checked launch helper.
#pragma once

#include "spikequant/cuda/runtime/check.cuh"

#include <cstddef>
#include <cuda_runtime_api.h>

namespace spikequant::inline v0::cuda {

//! Runs `Kernel{}(params, smem)` in every thread: a kernel is a struct with
//! - `Params` (device-side, trivially copyable), `kThreads` (block size, for launch bounds),
//! - `kSharedBytes` (dynamic shared memory it needs) and
//! - `SPIKEQUANT_DEVICE void operator()(Params const&, char* smem) const`.
template <class Kernel>
__global__ void __launch_bounds__(Kernel::kThreads)
    device_kernel(typename Kernel::Params const params) {
  extern __shared__ __align__(16) char spikequant_smem[];
  Kernel{}(params, spikequant_smem);
}

//! Launches device_kernel<Kernel> on `grid` x Kernel::kThreads with Kernel::kSharedBytes of
//! dynamic shared memory on `stream`, raising the opt-in limit when it exceeds 48 KiB.
//! Throws Error(kCuda) when the launch is rejected (configuration, no device, no image).
template <class Kernel>
void launch(dim3 grid, typename Kernel::Params const& params, cudaStream_t stream) {
  constexpr std::size_t smem = Kernel::kSharedBytes;
  if constexpr (smem > 48 * 1024) {
    SPIKEQUANT_CUDA_CHECK(cudaFuncSetAttribute(
        device_kernel<Kernel>,
        cudaFuncAttributeMaxDynamicSharedMemorySize,
        static_cast<int>(smem)));
  }
  device_kernel<Kernel><<<grid, Kernel::kThreads, smem, stream>>>(params);
  SPIKEQUANT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace spikequant::v0::cuda
