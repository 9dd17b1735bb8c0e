// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Umbrella header for the CUDA backend (needs nvcc): runtime helpers, quantize, fused
//! GLU / RMSNorm (+quantize) and the GEMM entry points.
#pragma once

// Core only (policies, errors, numeric); the Eigen CPU backend (spikequant.hpp) is not pulled
// into nvcc translation units.
#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/core/policy.hpp"

// Runtime: error checks, device buffers, argument checks, device queries, launch.
#include "spikequant/cuda/runtime/check.cuh"
#include "spikequant/cuda/runtime/checks.cuh"
#include "spikequant/cuda/runtime/device.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"
#include "spikequant/cuda/runtime/launch.cuh"

// Row kernels: quantize (AQ1 / AQ2 / AQ3), GLU (+quantize), RMSNorm (+quantize).
#include "spikequant/cuda/device/glu.cuh"
#include "spikequant/cuda/device/quantize.cuh"
#include "spikequant/cuda/device/rmsnorm.cuh"

// GEMM entry points (added by the GEMM work).
#include "spikequant/cuda/device/cublaslt_int8_gemm.cuh"
#include "spikequant/cuda/device/gemm.cuh"
#include "spikequant/cuda/device/gemm_arguments.hpp"
#include "spikequant/cuda/device/w8a16_gemm.cuh"
#include "spikequant/cuda/kernel/dequant_epilogue.cuh"
#include "spikequant/cuda/tuning/int8_gemm_policy.hpp"
