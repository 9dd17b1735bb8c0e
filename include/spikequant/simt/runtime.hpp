// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The CUDA runtime API on host memory, enough for the library's device/*.cuh entry points
//! and tests to run unchanged: allocation, copies, memset, streams and events (synchronous),
//! device attributes of an sm_80 or sm_90 part, function attributes, errors. cuBLASLt is not
//! emulated (its tests are not built for the emulator).
//!
//! The definitions are compiled once: in exactly one translation unit of the program write
//!   #define SPIKEQUANT_SIMT_IMPLEMENT
//!   #include "spikequant/simt/runtime.hpp"
//! (test/common/gpu_main.cpp does this for the emulated tests).
#pragma once

#include "spikequant/simt/launch.hpp"

#include <cuda_runtime_api.h>

#if defined(SPIKEQUANT_SIMT_IMPLEMENT)

#  include <chrono>
#  include <cstdlib>
#  include <cstring>
#  include <iterator>
#  include <map>
#  include <mutex>

struct CUevent_st {
  double ms = 0.0;
};
struct CUstream_st {};

namespace spikequant::inline v0::simt::runtime_detail {

inline std::map<char const*, std::size_t>& allocations() {
  return device_state().allocations;
}

inline bool is_device(void const* p, std::size_t bytes) {
  return device_state().in_allocation(p, bytes);
}

inline cudaError_t fail(cudaError_t e, std::string msg) {
  DeviceState& d = device_state();
  d.last_error = e;
  d.last_message = std::move(msg);
  return e;
}

inline cudaError_t check_copy(void* dst, void const* src, std::size_t n, cudaMemcpyKind kind) {
  bool const dst_dev = is_device(dst, n);
  bool const src_dev = is_device(src, n);
  bool ok = true;
  switch (kind) {
  case cudaMemcpyHostToDevice:
    ok = dst_dev;
    break;
  case cudaMemcpyDeviceToHost:
    ok = src_dev;
    break;
  case cudaMemcpyDeviceToDevice:
    ok = dst_dev && src_dev;
    break;
  default:
    break;
  }
  if (n > 0 && !ok) {
    return fail(cudaErrorInvalidValue, "cudaMemcpy: a device range is not inside one allocation");
  }
  if (n > 0) {
    std::memmove(dst, src, n);
  }
  return cudaSuccess;
}

inline double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace spikequant::v0::simt::runtime_detail

namespace sq_simt = ::spikequant::simt;
namespace sq_rt = ::spikequant::simt::runtime_detail;

extern "C" {

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (p == nullptr) {
    return sq_rt::fail(cudaErrorInvalidValue, "cudaMalloc: null result pointer");
  }
  void* m = nullptr;
  // 256-byte aligned as cudaMalloc's; exact size so ASan sees every out-of-bounds byte.
  if (posix_memalign(&m, 256, bytes == 0 ? 1 : bytes) != 0) {
    return sq_rt::fail(cudaErrorMemoryAllocation, "cudaMalloc: out of host memory");
  }
  std::memset(m, 0xCD, bytes);  // device memory starts as garbage, not zeros
  sq_rt::allocations()[static_cast<char const*>(m)] = bytes;
  *p = m;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (p == nullptr) {
    return cudaSuccess;
  }
  auto& a = sq_rt::allocations();
  auto const it = a.find(static_cast<char const*>(p));
  if (it == a.end()) {
    return sq_rt::fail(cudaErrorInvalidValue, "cudaFree: not an allocation's base pointer");
  }
  a.erase(it);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, void const* src, size_t n, cudaMemcpyKind kind) {
  return sq_rt::check_copy(dst, src, n, kind);
}

cudaError_t
cudaMemcpyAsync(void* dst, void const* src, size_t n, cudaMemcpyKind kind, cudaStream_t) {
  return sq_rt::check_copy(dst, src, n, kind);
}

cudaError_t cudaMemset(void* p, int value, size_t n) {
  if (n > 0 && !sq_rt::is_device(p, n)) {
    return sq_rt::fail(cudaErrorInvalidValue, "cudaMemset: range is not inside one allocation");
  }
  std::memset(p, value, n);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t) {
  return cudaMemset(p, value, n);
}

cudaError_t cudaDeviceSynchronize(void) {
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = new CUstream_st;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete s;
  return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
  auto& d = sq_simt::device_state();
  auto const e = static_cast<cudaError_t>(d.last_error);
  d.last_error = 0;
  return e;
}
cudaError_t cudaPeekAtLastError(void) {
  return static_cast<cudaError_t>(sq_simt::device_state().last_error);
}

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
  case cudaSuccess:
    return "cudaSuccess";
  case cudaErrorInvalidValue:
    return "cudaErrorInvalidValue";
  case cudaErrorMemoryAllocation:
    return "cudaErrorMemoryAllocation";
  case cudaErrorInvalidConfiguration:
    return "cudaErrorInvalidConfiguration";
  case cudaErrorLaunchFailure:
    return "cudaErrorLaunchFailure";
  case cudaErrorInvalidDevice:
    return "cudaErrorInvalidDevice";
  default:
    return "cudaError (emulated)";
  }
}

const char* cudaGetErrorString(cudaError_t e) {
  auto const& d = sq_simt::device_state();
  // The checker's report is the useful text of a failed emulated launch.
  if (e != cudaSuccess && !d.last_message.empty()) {
    return d.last_message.c_str();
  }
  return cudaGetErrorName(e);
}

cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  return device == 0
             ? cudaSuccess
             : sq_rt::fail(cudaErrorInvalidDevice, "cudaSetDevice: the emulator has one device");
}
cudaError_t cudaDeviceReset(void) {
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  auto& d = sq_simt::device_state();
  ++d.device_queries;
  if (device != 0) {
    return sq_rt::fail(cudaErrorInvalidDevice, "cudaDeviceGetAttribute: no such device");
  }
  switch (attr) {
  case cudaDevAttrComputeCapabilityMajor:
    *value = d.compute_capability / 10;
    return cudaSuccess;
  case cudaDevAttrComputeCapabilityMinor:
    *value = d.compute_capability % 10;
    return cudaSuccess;
  case cudaDevAttrMultiProcessorCount:
    *value = d.sm_count;
    return cudaSuccess;
  case cudaDevAttrL2CacheSize:
    *value = d.compute_capability >= 90 ? 50 * 1024 * 1024 : 40 * 1024 * 1024;
    return cudaSuccess;
  case cudaDevAttrMaxSharedMemoryPerBlockOptin:
    *value = d.max_dynamic_smem_optin;
    return cudaSuccess;
  case cudaDevAttrWarpSize:
    *value = 32;
    return cudaSuccess;
  case cudaDevAttrMaxThreadsPerBlock:
    *value = 1024;
    return cudaSuccess;
  default:
    return sq_rt::fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute not emulated");
  }
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) {
    return sq_rt::fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties: no such device");
  }
  auto& d = sq_simt::device_state();
  ++d.device_queries;
  *prop = cudaDeviceProp{};
  std::strncpy(
      prop->name,
      d.compute_capability >= 90 ? "spikequant SIMT emulator (sm_90)"
                                 : "spikequant SIMT emulator (sm_80)",
      sizeof(prop->name) - 1);
  prop->major = d.compute_capability / 10;
  prop->minor = d.compute_capability % 10;
  prop->multiProcessorCount = d.sm_count;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->sharedMemPerBlockOptin = static_cast<size_t>(d.max_dynamic_smem_optin);
  prop->l2CacheSize = d.compute_capability >= 90 ? 50 * 1024 * 1024 : 40 * 1024 * 1024;
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(void const* fn, cudaFuncAttribute attr, int value) {
  auto& d = sq_simt::device_state();
  ++d.attribute_sets;
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > d.max_dynamic_smem_optin) {
      return sq_rt::fail(
          cudaErrorInvalidValue,
          "cudaFuncSetAttribute: " + std::to_string(value) +
              " bytes of dynamic shared memory exceed the device's opt-in limit " +
              std::to_string(d.max_dynamic_smem_optin));
    }
    d.max_dynamic_smem[fn] = value;
  }
  return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, void const* fn) {
  auto const& d = sq_simt::device_state();
  *attr = cudaFuncAttributes{};
  auto const it = d.max_dynamic_smem.find(fn);
  attr->maxDynamicSharedSizeBytes = it != d.max_dynamic_smem.end() ? it->second : 48 * 1024;
  attr->maxThreadsPerBlock = 1024;
  return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attr, void const* p) {
  *attr = cudaPointerAttributes{};
  if (sq_rt::is_device(p, 1)) {
    attr->type = cudaMemoryTypeDevice;
    attr->devicePointer = const_cast<void*>(p);
  } else {
    attr->type = cudaMemoryTypeUnregistered;
  }
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  e->ms = sq_rt::now_ms();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) {
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  *ms = static_cast<float>(end->ms - start->ms);
  return cudaSuccess;
}

}  // extern "C"

#endif  // SPIKEQUANT_SIMT_IMPLEMENT
