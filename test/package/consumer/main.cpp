// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Package consumer: includes the umbrella header and runs a W8A8 linear on the CPU.
#include <cmath>
#include <cstdio>
#include <spikequant/spikequant.hpp>
#include <vector>

int main() {
  namespace sq = spikequant;
  // x (2, 3), W (2, 3): y = x W^T = [[1*1 + 2*0 + 3*1, 1*0 + 2*1 + 3*0], [4 + 6, 5]] = [[4, 2],
  // [10, 5]]
  std::vector<float> const x = {1, 2, 3, 4, 5, 6};  // (2, 3)
  std::vector<float> const w = {1, 0, 1, 0, 1, 0};  // (2, 3)
  auto const q = sq::cpu::quantize_weight(sq::make_matrix_ref(w.data(), 2, 3));
  std::vector<float> y(4);  // (2, 2)
  sq::cpu::linear_w8a8<sq::AQ1>(sq::make_matrix_ref(x.data(), 2, 3), q, {y.data(), 2, 2, 2});
  std::vector<float> const expected = {4, 2, 10, 5};
  bool ok = true;
  for (std::size_t i = 0; i < y.size(); ++i) {
    // Per-token scales 3/127 and 6/127: half a step of error per product, < 0.1 here.
    ok = ok && std::fabs(y[i] - expected[i]) < 0.1f;
  }
  std::printf(
      "spikequant %d.%d.%d consumer: y = [%g %g; %g %g] %s\n",
      SPIKEQUANT_VERSION_MAJOR,
      SPIKEQUANT_VERSION_MINOR,
      SPIKEQUANT_VERSION_PATCH,
      static_cast<double>(y[0]),
      static_cast<double>(y[1]),
      static_cast<double>(y[2]),
      static_cast<double>(y[3]),
      ok ? "Passed" : "Failed");
  return ok ? 0 : 1;
}
