// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The one hook of the PTX wrappers into the SIMT emulator: in an emulated build each
//! wrapper takes its caller's source location (the kernel line a checker report names) and
//! calls simt/ptx.hpp; in a CUDA build the parameter does not exist.
#pragma once

#if defined(SPIKEQUANT_SIMT)
#  include "spikequant/simt/ptx.hpp"

#  include <source_location>
//! Trailing parameter of every PTX wrapper in an emulated build: the call site.
#  define SPIKEQUANT_SIMT_SITE , std::source_location site = std::source_location::current()
#else
#  define SPIKEQUANT_SIMT_SITE
#endif
