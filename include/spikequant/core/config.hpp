// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host/device annotations and architecture macros, defined once for the whole library.
#pragma once

#include "spikequant/version.hpp"

// Code shared by the CPU and CUDA backends is annotated, never duplicated: the same
// rounding and scale arithmetic then produce bit-identical INT8 codes on both sides.
#if defined(__CUDACC__)
#  define SPIKEQUANT_HOST_DEVICE __host__ __device__ __forceinline__
#  define SPIKEQUANT_DEVICE __device__ __forceinline__
#  define SPIKEQUANT_HOST __host__ inline
#else
#  define SPIKEQUANT_HOST_DEVICE inline
#  define SPIKEQUANT_DEVICE inline
#  define SPIKEQUANT_HOST inline
#endif

// "SUPPORTED": the toolkit can compile the feature. "ENABLED": this device pass targets it.
#if defined(__CUDACC__)
#  define SPIKEQUANT_ARCH_SM80_SUPPORTED 1
#  if defined(__CUDACC_VER_MAJOR__) && (__CUDACC_VER_MAJOR__ >= 12)
#    define SPIKEQUANT_ARCH_SM90_SUPPORTED 1
#  endif
#endif
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 800)
#  define SPIKEQUANT_ARCH_SM80_ENABLED 1
#endif
// The SIMT emulator (simt/) runs the sm_80 code paths on the host.
#if defined(SPIKEQUANT_SIMT)
#  define SPIKEQUANT_ARCH_SM80_SUPPORTED 1
#  define SPIKEQUANT_ARCH_SM90_SUPPORTED 1
#  define SPIKEQUANT_ARCH_SM80_ENABLED 1
#endif
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#  define SPIKEQUANT_ARCH_SM90A_ENABLED 1
#endif
