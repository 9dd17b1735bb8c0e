// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The README's "Using the library" snippet, compiled as written (std::vector buffers)
//! and checked: the W8A8 result against a naive per-token INT8 emulation and against float,
//! and the QFeM rule against hand-picked modules. scripts/check-snippets.py keeps README.md
//! equal to the region between the `// [readme-usage]` markers.
#include <doctest/doctest.h>

// [readme-usage]
#include <spikequant/spikequant.hpp>
#include <vector>
namespace sq = spikequant;

// y (m, n) = x (m, k) W^T, W (n, k): W8A8 with plain std::vector buffers.
void linear_int8(
    std::vector<float> const& x_data,
    std::vector<float> const& w_data,
    std::vector<float>& y_data,
    std::int64_t m,
    std::int64_t n,
    std::int64_t k) {
  auto w = sq::cpu::quantize_weight(sq::make_matrix_ref(w_data, n, k));  // per-channel INT8
  auto x = sq::make_matrix_ref(x_data, m, k);
  auto y = sq::make_matrix_ref(y_data, m, n);
  sq::cpu::linear_w8a8<sq::AQ1>(x, w, y);  // INT8 activations, dynamic per-token scales
}
auto const spiky = sq::ratio_above(6.68) || sq::name_matches("layers\\.(0|31)\\.mlp");  // QFeM
// [readme-usage]

#include <algorithm>
#include <cmath>
#include <random>

namespace {

//! Round half to even, saturate to [-127, 127]: the library's documented rounding contract.
int code_of(double v) {
  return static_cast<int>(std::clamp(std::nearbyint(v), -127.0, 127.0));
}

}  // namespace

TEST_CASE("README snippet: W8A8 per-token linear on std::vector buffers") {
  std::int64_t const m = 5;
  std::int64_t const n = 7;
  std::int64_t const k = 33;
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(m * k));
  std::vector<float> w(static_cast<std::size_t>(n * k));
  for (auto& v : x) {
    v = u(gen);
  }
  for (auto& v : w) {
    v = 0.1f * u(gen);
  }
  std::vector<float> y(static_cast<std::size_t>(m * n), -1.0f);
  linear_int8(x, w, y, m, n, k);

  // Naive emulation: per-row absmax / 127 scales for W (per channel) and x (per token),
  // int32 dot products of the codes, then both scales. Double precision throughout, so the
  // only differences from the library are float rounding (budget 1e-5 relative to |y|max).
  std::vector<double> sw(static_cast<std::size_t>(n));
  std::vector<double> sx(static_cast<std::size_t>(m));
  auto const row_scale = [&](std::vector<float> const& a, std::int64_t r) {
    double amax = 0.0;
    for (std::int64_t c = 0; c < k; ++c) {
      amax = std::max(amax, std::fabs(static_cast<double>(a[static_cast<std::size_t>(r * k + c)])));
    }
    return amax / 127.0;
  };
  for (std::int64_t r = 0; r < n; ++r) {
    sw[static_cast<std::size_t>(r)] = row_scale(w, r);
  }
  for (std::int64_t r = 0; r < m; ++r) {
    sx[static_cast<std::size_t>(r)] = row_scale(x, r);
  }
  double max_emul = 0.0;
  double max_ref = 0.0;
  double err2 = 0.0;
  double ref2 = 0.0;
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      long acc = 0;
      double ref = 0.0;
      for (std::int64_t c = 0; c < k; ++c) {
        double const xv = x[static_cast<std::size_t>(i * k + c)];
        double const wv = w[static_cast<std::size_t>(j * k + c)];
        acc += static_cast<long>(code_of(xv / sx[static_cast<std::size_t>(i)])) *
               code_of(wv / sw[static_cast<std::size_t>(j)]);
        ref += xv * wv;
      }
      double const emul = static_cast<double>(acc) * sx[static_cast<std::size_t>(i)] *
                          sw[static_cast<std::size_t>(j)];
      double const got = y[static_cast<std::size_t>(i * n + j)];
      max_emul = std::max(max_emul, std::fabs(got - emul));
      max_ref = std::max(max_ref, std::fabs(ref));
      err2 += (got - ref) * (got - ref);
      ref2 += ref * ref;
    }
  }
  CHECK(max_emul <= 1e-5 * max_ref);
  // Against float: W8A8 error on ordinary data stays under 2% (example 01's budget).
  CHECK(std::sqrt(err2 / ref2) < 0.02);
}

TEST_CASE("README snippet: the QFeM rule excludes spiky modules and the named MLPs") {
  using sq::ModuleId;
  using sq::ModuleKind;
  CHECK(spiky({ModuleId{5, ModuleKind::kO, -1}, 7.0}));        // r(m) > 6.68
  CHECK_FALSE(spiky({ModuleId{5, ModuleKind::kO, -1}, 6.0}));  // below alpha
  CHECK_FALSE(spiky({ModuleId{5, ModuleKind::kDown, -1}}));    // not measured, not named
  CHECK(spiky({ModuleId{31, ModuleKind::kDown, -1}}));         // layers.31.mlp.down_proj
  CHECK(spiky({ModuleId{0, ModuleKind::kGate, -1}, 1.0}));     // layers.0.mlp.gate_proj
  CHECK_FALSE(spiky({ModuleId{0, ModuleKind::kQ, -1}, 1.0}));  // layers.0.self_attn
}
