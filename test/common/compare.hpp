// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Distances between two logit (or any float) vectors, shared by the model tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <vector>

namespace spikequant_test {

//! max_i |a[i] - b[i]|; the sizes must match.
inline float max_abs_diff(std::vector<float> const& a, std::vector<float> const& b) {
  REQUIRE(a.size() == b.size());
  float m = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, std::abs(a[i] - b[i]));
  }
  return m;
}

//! ||a - b|| / ||b|| in double; the sizes must match.
inline double rel_l2(std::vector<float> const& a, std::vector<float> const& b) {
  REQUIRE(a.size() == b.size());
  double num = 0.0;
  double den = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

}  // namespace spikequant_test
