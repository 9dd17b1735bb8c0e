// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Umbrella header: core policies plus the Eigen CPU reference backend (plain C++20).
#pragma once

#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/activation.hpp"
#include "spikequant/core/config.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/estimator.hpp"
#include "spikequant/core/exclude.hpp"
#include "spikequant/core/granularity.hpp"
#include "spikequant/core/linear_mode.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/core/policy.hpp"
#include "spikequant/core/scale_source.hpp"
#include "spikequant/cpu/gemm.hpp"
#include "spikequant/cpu/glu.hpp"
#include "spikequant/cpu/linear.hpp"
#include "spikequant/cpu/quantize.hpp"
#include "spikequant/cpu/rmsnorm.hpp"
#include "spikequant/cpu/smoothquant.hpp"
#include "spikequant/cpu/workspace.hpp"
