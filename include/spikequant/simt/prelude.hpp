// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Forced include (-include) of every translation unit built for the SIMT emulator: CUDA
//! source compiled by the host compiler, kernels running as fibers on the CPU. The
//! spikequant::simt CMake target adds it; see docs/simt.md.
#pragma once

#if !defined(SPIKEQUANT_SIMT)
#  define SPIKEQUANT_SIMT 1
#endif

// Execution-space keywords mean nothing on the host; define them before the toolkit headers
// would turn them into attributes GCC does not know.
#define __global__
#define __device__
#define __host__
#define __shared__
#define __constant__
#define __launch_bounds__(...)

#ifdef __cplusplus
// The toolkit's headers first: the built-in names below are macros they must not see.
#  include <cuda_runtime.h>
#endif

#ifdef __cplusplus
#  include "spikequant/simt/device_api.hpp"
#  include "spikequant/simt/launch.hpp"
#endif
