// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Scale sources: computed at run time in the kernel, or fixed from calibration.
#pragma once

#include <concepts>
#include <string_view>

namespace spikequant::inline v0 {

//! Scales are computed at run time from the tensor being quantized (AQ1, AQ2).
struct Dynamic {
  static constexpr std::string_view name = "dynamic";
};
//! Scales are fixed ahead of time from calibration data and passed in (AQ3).
struct Static {
  static constexpr std::string_view name = "static";
};

//! Dynamic or Static.
template <class S>
concept ScaleSource = std::same_as<S, Dynamic> || std::same_as<S, Static>;

}  // namespace spikequant::v0
