// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file can_implement helpers of the CUDA backend: the pointer-kind check (device memory or
//! not); the alignment and shape checks every backend shares are in core/checks.hpp.
#pragma once

#include "spikequant/core/checks.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"

#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>
#include <string_view>

namespace spikequant::inline v0::cuda {

// is_aligned, require_not_null, require_aligned, require_pointer, require_ld(_aligned): core.

//! Throws Error(kInvalidArgument) when `ptr` is null or known to the runtime as host memory
//! (a plain host pointer, or pinned memory that is not mapped). Device, managed and mapped
//! pointers pass. This calls the CUDA runtime: call it from can_implement on machines with a
//! driver; without one the check is skipped (the pointer kind cannot be known).
inline void require_device_pointer(void const* ptr, std::string_view what) {
  require_not_null(ptr, what);
  cudaPointerAttributes attr{};
  cudaError_t const status = cudaPointerGetAttributes(&attr, ptr);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // no driver / device: nothing to say about the pointer
    return;
  }
  bool const usable = attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged ||
                      (attr.type == cudaMemoryTypeHost && attr.devicePointer != nullptr);
  require(
      usable,
      ErrorKind::kInvalidArgument,
      what,
      ": pointer ",
      ptr,
      " is host memory, not device memory");
}

}  // namespace spikequant::v0::cuda
