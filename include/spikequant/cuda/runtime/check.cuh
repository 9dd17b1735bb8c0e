// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file CUDA runtime / cuBLAS(Lt) status checks that raise spikequant::Error(kCuda).
#pragma once

#include "spikequant/core/error.hpp"

#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <string>

namespace spikequant::inline v0::cuda {

//! Throws Error(kCuda) "<call> failed at <file>:<line>: <cudaErrorName>: <description>"
//! unless `status` is cudaSuccess.
//! - The sticky error state is left as is; the caller decides whether to reset the device.
inline void check_cuda(cudaError_t status, char const* call, char const* file, int line) {
  if (status != cudaSuccess) {
    fail(
        ErrorKind::kCuda,
        call,
        " failed at ",
        file,
        ":",
        line,
        ": ",
        cudaGetErrorName(status),
        ": ",
        cudaGetErrorString(status));
  }
}

//! Name of a cublasStatus_t (cuBLAS and cuBLASLt share the type).
inline char const* cublas_status_name(cublasStatus_t status) noexcept {
  switch (status) {
  case CUBLAS_STATUS_SUCCESS:
    return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_ALLOC_FAILED:
    return "CUBLAS_STATUS_ALLOC_FAILED";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_ARCH_MISMATCH:
    return "CUBLAS_STATUS_ARCH_MISMATCH";
  case CUBLAS_STATUS_MAPPING_ERROR:
    return "CUBLAS_STATUS_MAPPING_ERROR";
  case CUBLAS_STATUS_EXECUTION_FAILED:
    return "CUBLAS_STATUS_EXECUTION_FAILED";
  case CUBLAS_STATUS_INTERNAL_ERROR:
    return "CUBLAS_STATUS_INTERNAL_ERROR";
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return "CUBLAS_STATUS_NOT_SUPPORTED";
  case CUBLAS_STATUS_LICENSE_ERROR:
    return "CUBLAS_STATUS_LICENSE_ERROR";
  default:
    return "CUBLAS_STATUS_<unknown>";
  }
}

//! Throws Error(kCuda) "<call> failed at <file>:<line>: <CUBLAS_STATUS_...> (<code>)" unless
//! `status` is CUBLAS_STATUS_SUCCESS.
inline void check_cublas(cublasStatus_t status, char const* call, char const* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    fail(
        ErrorKind::kCuda,
        call,
        " failed at ",
        file,
        ":",
        line,
        ": ",
        cublas_status_name(status),
        " (",
        static_cast<int>(status),
        ")");
  }
}

}  // namespace spikequant::v0::cuda

//! Evaluates a cudaError_t expression once; throws spikequant::Error(kCuda) on failure.
#define SPIKEQUANT_CUDA_CHECK(expr)                                                                \
  ::spikequant::cuda::check_cuda((expr), #expr, __FILE__, __LINE__)

//! Evaluates a cublasStatus_t expression (cuBLAS or cuBLASLt) once; throws Error(kCuda).
#define SPIKEQUANT_CUBLAS_CHECK(expr)                                                              \
  ::spikequant::cuda::check_cublas((expr), #expr, __FILE__, __LINE__)
