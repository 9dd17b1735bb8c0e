// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file LinearMode: how one linear module runs (float, W8A16 or W8A8), with its one
//! to_string / parse_linear_mode. Plans, recipes and every backend share it.
#pragma once

#include "spikequant/core/error.hpp"

#include <array>
#include <string_view>

namespace spikequant::inline v0 {

//! How one linear module runs.
enum class LinearMode {
  kFloat,  //!< float weight, float activation
  kW8A16,  //!< INT8 per-channel weight dequantized, float activation (QFeM)
  kW8A8,   //!< INT8 weight and INT8 activation (AQ1/AQ2/AQ3)
};

//! Every LinearMode, in declaration order.
inline constexpr std::array<LinearMode, 3> kAllLinearModes = {
    LinearMode::kFloat, LinearMode::kW8A16, LinearMode::kW8A8};

//! "fp32", "w8a16", "w8a8".
inline constexpr std::string_view to_string(LinearMode mode) noexcept {
  switch (mode) {
  case LinearMode::kFloat:
    return "fp32";
  case LinearMode::kW8A16:
    return "w8a16";
  case LinearMode::kW8A8:
    return "w8a8";
  }
  return "?";
}

//! Parses to_string's names. Throws Error(kInvalidArgument) naming the valid values otherwise.
inline LinearMode parse_linear_mode(std::string_view s) {
  for (LinearMode m : kAllLinearModes) {
    if (s == to_string(m)) {
      return m;
    }
  }
  fail(ErrorKind::kInvalidArgument, "unknown linear mode '", s, "' (expected fp32, w8a16 or w8a8)");
}

}  // namespace spikequant::v0
