// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file can_implement helpers: alignment, pointer-kind and shape checks raising
//! spikequant::Error with the argument's name and the offending values.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"

#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>
#include <string_view>

namespace spikequant::inline v0::cuda {

//! True when `ptr` is a multiple of `bytes` (bytes a power of two).
inline bool is_aligned(void const* ptr, std::size_t bytes) noexcept {
  return (reinterpret_cast<std::uintptr_t>(ptr) & (bytes - 1)) == 0;
}

//! Throws Error(kAlignment) "<what>: pointer 0x... is not <bytes>-byte aligned" unless aligned.
inline void require_aligned(void const* ptr, std::size_t bytes, std::string_view what) {
  if (!is_aligned(ptr, bytes)) {
    fail(
        ErrorKind::kAlignment,
        what,
        ": pointer ",
        ptr,
        " is not ",
        bytes,
        "-byte aligned (offset ",
        reinterpret_cast<std::uintptr_t>(ptr) % bytes,
        ")");
  }
}

//! Throws Error(kAlignment) unless the leading dimension `ld` (elements of `elem_bytes`) keeps
//! every row start `bytes`-byte aligned.
inline void require_ld_aligned(
    std::int64_t ld, std::size_t elem_bytes, std::size_t bytes, std::string_view what) {
  auto const row_bytes = static_cast<std::uint64_t>(ld) * elem_bytes;
  require(
      row_bytes % bytes == 0,
      ErrorKind::kAlignment,
      what,
      ": leading dimension ",
      ld,
      " (",
      row_bytes,
      " bytes) is not a multiple of ",
      bytes,
      " bytes");
}

//! Throws Error(kInvalidArgument) when `ptr` is null.
inline void require_not_null(void const* ptr, std::string_view what) {
  require(ptr != nullptr, ErrorKind::kInvalidArgument, what, ": null pointer");
}

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
