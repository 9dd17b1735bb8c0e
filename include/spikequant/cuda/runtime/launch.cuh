// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The one launch function every kernel goes through (a `<<<>>>` on a device, the SIMT
//! emulator in an emulated build), the dynamic shared memory macro, and the generic
//! __global__ entry of every kernel (CUTLASS device_kernel).
#pragma once

#include "spikequant/cuda/runtime/check.cuh"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>

//! Declares `name` as a T* to the launch's dynamic shared memory, aligned to `align` bytes.
#if defined(SPIKEQUANT_SIMT)
#  define SPIKEQUANT_DYNAMIC_SHARED(T, name, align)                                                \
    T* const name = reinterpret_cast<T*>(::spikequant::simt::this_block().smem.data())
#else
#  define SPIKEQUANT_DYNAMIC_SHARED(T, name, align)                                                \
    extern __shared__ __align__(align)                                                             \
    T name[]
#endif

namespace spikequant::inline v0::cuda {

//! Launches `kernel(args...)` on grid x block threads with `smem_bytes` of dynamic shared
//! memory on `stream`; throws Error(kCuda) when the launch is rejected (configuration, no
//! device, no image, or in the emulator a checker report).
//! Allows `kernel` to use `bytes` of dynamic shared memory (needed above 48 KiB); Error(kCuda)
//! when the device cannot give that much.
template <class... KernelArgs>
void set_max_dynamic_shared(void (*kernel)(KernelArgs...), std::size_t bytes) {
  SPIKEQUANT_CUDA_CHECK(cudaFuncSetAttribute(
      reinterpret_cast<void const*>(kernel),
      cudaFuncAttributeMaxDynamicSharedMemorySize,
      static_cast<int>(bytes)));
}

template <class... KernelArgs, class... Args>
void launch_kernel(
    void (*kernel)(KernelArgs...),
    dim3 grid,
    dim3 block,
    std::size_t smem_bytes,
    cudaStream_t stream,
    Args const&... args) {
#if defined(SPIKEQUANT_SIMT)
  (void)stream;
  simt::launch(
      reinterpret_cast<void const*>(kernel), grid, block, smem_bytes, [&] { kernel(args...); });
#else
  kernel<<<grid, block, smem_bytes, stream>>>(args...);
#endif
  SPIKEQUANT_CUDA_CHECK(cudaGetLastError());
}

//! Runs `Kernel{}(params, smem)` in every thread: a kernel is a struct with
//! - `Params` (device-side, trivially copyable), `kThreads` (block size, for launch bounds),
//! - `kSharedBytes` (dynamic shared memory it needs) and
//! - `SPIKEQUANT_DEVICE void operator()(Params const&, char* smem) const`.
template <class Kernel>
__global__ void __launch_bounds__(Kernel::kThreads)
    device_kernel(typename Kernel::Params const params) {
  SPIKEQUANT_DYNAMIC_SHARED(char, spikequant_smem, 128);
  Kernel{}(params, spikequant_smem);
}

namespace detail {
//! Raises device_kernel<Kernel>'s dynamic shared memory limit to `bytes` once per device (a
//! function attribute persists; setting it on every launch is host work on the hot path).
template <class Kernel>
void raise_shared_limit_once(std::size_t bytes) {
  static std::atomic<std::uint64_t> raised{0};  // bit d: done on device d (d < 64)
  int device = 0;
  SPIKEQUANT_CUDA_CHECK(cudaGetDevice(&device));
  std::uint64_t const bit = device >= 0 && device < 64 ? std::uint64_t{1} << device : 0;
  if (bit != 0 && (raised.load(std::memory_order_acquire) & bit) != 0) {
    return;
  }
  set_max_dynamic_shared(&device_kernel<Kernel>, bytes);
  raised.fetch_or(bit, std::memory_order_release);
}
}  // namespace detail

//! Launches device_kernel<Kernel> on `grid` x Kernel::kThreads with Kernel::kSharedBytes of
//! dynamic shared memory on `stream`, raising the opt-in limit (once) when it exceeds 48 KiB.
//! Every kernel of the library goes through here: one __global__ entry.
//! Throws Error(kCuda) when the launch is rejected (configuration, no device, no image).
template <class Kernel>
void launch(dim3 grid, typename Kernel::Params const& params, cudaStream_t stream) {
  constexpr std::size_t smem = Kernel::kSharedBytes;
  if constexpr (smem > 48 * 1024) {
    detail::raise_shared_limit_once<Kernel>(smem);
  }
  launch_kernel(&device_kernel<Kernel>, grid, dim3(Kernel::kThreads), smem, stream, params);
}

}  // namespace spikequant::v0::cuda
