// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The one place the library version lives; CMake parses these three lines.
#pragma once

#define SPIKEQUANT_VERSION_MAJOR 0
#define SPIKEQUANT_VERSION_MINOR 1
#define SPIKEQUANT_VERSION_PATCH 0

//! Single integer for comparisons: major * 10000 + minor * 100 + patch.
#define SPIKEQUANT_VERSION                                                                         \
  (SPIKEQUANT_VERSION_MAJOR * 10000 + SPIKEQUANT_VERSION_MINOR * 100 + SPIKEQUANT_VERSION_PATCH)
