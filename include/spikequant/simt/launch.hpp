// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file An emulated kernel launch: the grid's blocks one after another (deterministic; blocks
//! never share state but global memory), each on a fresh Block, and the launch's status where
//! cudaGetLastError finds it.
#pragma once

#include "spikequant/simt/block.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector_types.h>

namespace spikequant::inline v0::simt {

//! The emulated device and the last error of the calling host thread.
struct DeviceState {
  int compute_capability = 90;  //!< what cudaDeviceGetAttribute reports (80 or 90 tested)
  int sm_count = 132;
  int max_dynamic_smem_optin = 227 * 1024;         //!< 163 KiB on sm_80, 227 KiB on sm_90
  bool sticky_error = false;                       //!< a failed launch (kept until reset)
  int last_error = 0;                              //!< cudaError_t of the last failing call
  std::string last_message;                        //!< the checker report of a failed launch
  std::map<void const*, int> max_dynamic_smem;     //!< cudaFuncSetAttribute per kernel
  std::map<char const*, std::size_t> allocations;  //!< cudaMalloc'd ranges: base -> bytes
  //! Host work a test can hold to a budget: device attribute / property queries and
  //! function attribute calls since the program started.
  std::uint64_t device_queries = 0;
  std::uint64_t attribute_sets = 0;

  //! True when [p, p + bytes) lies inside one live allocation.
  bool in_allocation(void const* p, std::size_t bytes) const {
    auto const* c = static_cast<char const*>(p);
    auto it = allocations.upper_bound(c);
    if (it == allocations.begin()) {
      return false;
    }
    --it;
    return c >= it->first && c + bytes <= it->first + it->second;
  }
};

//! The device a compute capability describes: A100 (80) or H100/H200 (90) limits.
inline void describe_device(DeviceState& d, int cc) {
  d.compute_capability = cc;
  d.sm_count = cc >= 90 ? 132 : 108;
  d.max_dynamic_smem_optin = (cc >= 90 ? 227 : 163) * 1024;
}

//! The emulated device: sm_90 unless $SPIKEQUANT_SIMT_CC says 80.
inline DeviceState& device_state() {
  static DeviceState s = [] {
    DeviceState d;
    char const* cc = std::getenv("SPIKEQUANT_SIMT_CC");
    describe_device(d, cc != nullptr && std::string_view(cc) == "80" ? 80 : 90);
    return d;
  }();
  return s;
}

//! Emulates a device of compute capability `cc` (80 or 90) from the next call on.
inline void set_compute_capability(int cc) {
  describe_device(device_state(), cc);
}

//! Report of the last failed launch ("" when the last launch passed every check).
inline std::string const& last_report() {
  return device_state().last_message;
}

//! Launch failure codes, set as the CUDA runtime's: cudaErrorInvalidConfiguration (9) and
//! cudaErrorLaunchFailure (719).
inline constexpr int kErrorInvalidConfiguration = 9;
inline constexpr int kErrorLaunchFailure = 719;

//! Runs `body` as kernel `fn` on grid x block threads with `smem_bytes` of dynamic shared
//! memory. A checker report stops the launch and becomes the launch's error.
inline void
launch(void const* fn, dim3 grid, dim3 block, std::size_t smem_bytes, std::function<void()> body) {
  DeviceState& d = device_state();
  d.last_message.clear();
  auto reject = [&](int code, std::string msg) {
    d.last_error = code;
    d.last_message = std::move(msg);
    std::fprintf(stderr, "simt: %s\n", d.last_message.c_str());
  };
  std::size_t const threads = static_cast<std::size_t>(block.x) * block.y * block.z;
  if (threads == 0 || threads > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.y > 65535 || grid.z > 65535) {
    reject(kErrorInvalidConfiguration, "launch: invalid grid or block dimensions");
    return;
  }
  auto const attr = d.max_dynamic_smem.find(fn);
  std::size_t const limit = attr != d.max_dynamic_smem.end()
                                ? static_cast<std::size_t>(attr->second)
                                : std::size_t{48 * 1024};
  if (smem_bytes > limit) {
    reject(
        kErrorInvalidConfiguration,
        "launch: " + std::to_string(smem_bytes) + " bytes of dynamic shared memory exceed the " +
            std::to_string(limit) +
            " the kernel allows (raise cudaFuncAttributeMaxDynamicSharedMemorySize)");
    return;
  }
  Block b;
  for (unsigned z = 0; z < grid.z; ++z) {
    for (unsigned y = 0; y < grid.y; ++y) {
      for (unsigned x = 0; x < grid.x; ++x) {
        if (!b.run(uint3{x, y, z}, grid, block, smem_bytes, body)) {
          d.sticky_error = true;
          reject(kErrorLaunchFailure, b.error());
          if (std::getenv("SPIKEQUANT_SIMT_ABORT") != nullptr) {
            std::abort();  // stop here under a debugger
          }
          return;
        }
      }
    }
  }
}

}  // namespace spikequant::v0::simt
