// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file cpu::quantize_* / dequantize: exact codes on hand-computed cases (ties included) for
//! every granularity and for static scales, round-trip error bounds, planted spikes,
//! all-zero groups and non-finite values.
#include "cpu/reference.hpp"
#include "spikequant/cpu/linear.hpp"
#include "spikequant/cpu/quantize.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <limits>
#include <vector>

using namespace spikequant;
using namespace spikequant_test;
using granularity::PerChannel;
using granularity::PerGroup;
using granularity::PerTensor;
using granularity::PerToken;

namespace {

template <class T>
std::vector<int> as_ints(Mat<T> const& m) {
  std::vector<int> v;
  for (std::int64_t r = 0; r < m.rows; ++r) {
    for (std::int64_t c = 0; c < m.cols; ++c) {
      v.push_back(static_cast<int>(m(r, c)));
    }
  }
  return v;
}

Mat<float> from_rows(std::vector<std::vector<float>> const& rows, std::int64_t pad = 0) {
  Mat<float> m(
      static_cast<std::int64_t>(rows.size()),
      static_cast<std::int64_t>(rows[0].size()),
      pad,
      -7777.0f);
  for (std::int64_t r = 0; r < m.rows; ++r) {
    for (std::int64_t c = 0; c < m.cols; ++c) {
      m(r, c) = rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
    }
  }
  return m;
}

//! Quantize dynamically under G and return (codes, scales).
template <class G>
std::pair<Mat<std::int8_t>, std::vector<float>> qdyn(Mat<float> const& x) {
  Mat<std::int8_t> codes(x.rows, x.cols);  // (rows, cols) int8
  std::vector<float> scales(static_cast<std::size_t>(cpu::scale_count<G>(x.rows, x.cols)));
  cpu::quantize_dynamic<G>(x.cref(), codes.ref(), scales);
  return {std::move(codes), std::move(scales)};
}

//! Which scale element (r, c) uses under G, written independently of the library.
template <class G>
std::size_t group_of(std::int64_t r, std::int64_t c, std::int64_t cols) {
  if constexpr (std::is_same_v<G, PerTensor>) {
    return 0;
  } else if constexpr (is_per_group_v<G>) {
    return static_cast<std::size_t>(r * (cols / G::GroupSize) + c / G::GroupSize);
  } else {
    return static_cast<std::size_t>(r);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Exact codes, hand-computed. Scales are chosen so that absmax / 127 is a power of two (exact
// in float) and x * (1 / scale) lands exactly on .5 ties: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2,
// -2.5 -> -2, 63.5 -> 64, -64.5 -> -64 (round half to even).

TEST_CASE("PerTensor: exact codes with ties") {
  // absmax 127 -> scale 1 -> codes are the values rounded half to even.
  auto const x = from_rows({{1.0f, -2.0f, 0.5f, 1.5f}, {127.0f, 63.5f, -64.5f, -2.5f}}, 2);
  auto const [codes, scales] = qdyn<PerTensor>(x);
  CHECK(scales == std::vector<float>{1.0f});
  CHECK(as_ints(codes) == std::vector<int>{1, -2, 0, 2, 127, 64, -64, -2});
}

TEST_CASE("PerToken and PerChannel: exact codes with ties and an all-zero row") {
  // row 0: absmax 254 -> scale 2, inv 0.5: (254, 1, 3, -5, 0) -> (127, 0.5, 1.5, -2.5, 0)
  //        -> (127, 0, 2, -2, 0)
  // row 1: absmax 63.5 -> scale 0.5, inv 2: (63.5, 0.25, 0.75, -1.25, 10) -> (127, 0.5, 1.5,
  //        -2.5, 20) -> (127, 0, 2, -2, 20)
  // row 2: all zero -> scale 1, codes 0
  auto const x = from_rows(
      {{254.0f, 1.0f, 3.0f, -5.0f, 0.0f},
       {63.5f, 0.25f, 0.75f, -1.25f, 10.0f},
       {0.0f, 0.0f, 0.0f, 0.0f, 0.0f}},
      1);
  std::vector<int> const expected = {127, 0, 2, -2, 0, 127, 0, 2, -2, 20, 0, 0, 0, 0, 0};
  std::vector<float> const expected_scales = {2.0f, 0.5f, 1.0f};
  {
    auto const [codes, scales] = qdyn<PerToken>(x);
    CHECK(scales == expected_scales);
    CHECK(as_ints(codes) == expected);
  }
  {
    auto const [codes, scales] = qdyn<PerChannel>(x);
    CHECK(scales == expected_scales);
    CHECK(as_ints(codes) == expected);
  }
  // quantize_weight is per output channel.
  auto const w = cpu::quantize_weight(x.cref());
  CHECK(w.scales == expected_scales);
  CHECK(std::vector<int>(w.codes.begin(), w.codes.end()) == expected);
}

TEST_CASE("PerGroup<2>: exact codes, one scale per run of 2 along a row") {
  // row 0: group (254, 1) scale 2 -> (127, 0); group (63.5, 0.75) scale 0.5 -> (127, 2)
  // row 1: group (0, 0) scale 1 -> (0, 0);     group (-127, 2.5) scale 1 -> (-127, 2)
  auto const x = from_rows({{254.0f, 1.0f, 63.5f, 0.75f}, {0.0f, 0.0f, -127.0f, 2.5f}});
  auto const [codes, scales] = qdyn<PerGroup<2>>(x);
  CHECK(scales == std::vector<float>{2.0f, 0.5f, 1.0f, 1.0f});
  CHECK(as_ints(codes) == std::vector<int>{127, 0, 127, 2, 0, 0, -127, 2});
  CHECK(cpu::scale_count<PerGroup<2>>(2, 4) == 4);
  CHECK(cpu::scale_count<PerGroup<4>>(3, 8) == 6);
}

TEST_CASE("Static: exact codes, saturation never wraps") {
  // scale 0.5 (inv 2): 1.25 -> 2.5 -> 2; 1.75 -> 3.5 -> 4; -0.25 -> -0.5 -> 0;
  // 100 -> 200 -> 127; -100 -> -127; 63.5 -> 127; 63.75 -> 127.5 -> 127 (saturated, not -128)
  auto const x = from_rows({{1.25f, 1.75f, -0.25f, 100.0f, -100.0f, 63.5f, 63.75f}});
  Mat<std::int8_t> codes(1, 7);
  std::vector<float> const s = {0.5f};
  cpu::quantize_static<PerTensor>(x.cref(), s, codes.ref());
  CHECK(as_ints(codes) == std::vector<int>{2, 4, 0, 127, -127, 127, 127});

  // Static per-group scales (0.5, 4): (0.75, -0.25) -> (1.5, -0.5) -> (2, 0);
  // (10, 1000) -> (2.5, 250) -> (2, 127).
  auto const y = from_rows({{0.75f, -0.25f, 10.0f, 1000.0f}});
  Mat<std::int8_t> gcodes(1, 4);
  std::vector<float> const gs = {0.5f, 4.0f};
  cpu::quantize_static<PerGroup<2>>(y.cref(), gs, gcodes.ref());
  CHECK(as_ints(gcodes) == std::vector<int>{2, 0, 2, 127});

  // Far beyond the range, both signs, huge magnitudes: codes stay at +-127 with the sign of x.
  auto const big = from_rows({{1e6f, -1e6f, 3e38f, -3e38f, 128.0f, -128.0f}});
  Mat<std::int8_t> bcodes(1, 6);
  std::vector<float> const one = {1.0f};
  cpu::quantize_static<PerTensor>(big.cref(), one, bcodes.ref());
  CHECK(as_ints(bcodes) == std::vector<int>{127, -127, 127, -127, 127, -127});

  // The policy entry point reads the scales for AQ3.
  std::vector<float> s3 = {0.5f};
  Mat<std::int8_t> pcodes(1, 7);
  cpu::quantize<AQ3>(x.cref(), pcodes.ref(), s3);
  CHECK(as_ints(pcodes) == std::vector<int>{2, 4, 0, 127, -127, 127, 127});
  CHECK(s3 == std::vector<float>{0.5f});
}

TEST_CASE("dequantize: code * scale exactly") {
  Mat<std::int8_t> codes(2, 4);
  std::vector<std::int8_t> const v = {127, -127, 0, 5, -3, 1, 64, -64};
  std::copy(v.begin(), v.end(), codes.buf.begin());
  Mat<float> out(2, 4);
  std::vector<float> const gs = {2.0f, 0.5f, 0.25f, 1.0f};
  cpu::dequantize<PerGroup<2>>(codes.cref(), gs, out.ref());
  CHECK(out.buf == std::vector<float>{254.0f, -254.0f, 0.0f, 2.5f, -0.75f, 0.25f, 64.0f, -64.0f});
  std::vector<float> const ts = {0.5f, 2.0f};
  cpu::dequantize<PerToken>(codes.cref(), ts, out.ref());
  CHECK(out.buf == std::vector<float>{63.5f, -63.5f, 0.0f, 2.5f, -6.0f, 2.0f, 128.0f, -128.0f});
}

// ---------------------------------------------------------------------------------------------
// Round-trip bound: |x - dequantize(quantize(x))| <= scale / 2 per element, plus float slack.
// Slack: inv = fl(1 / s) and fl(x * inv) each add a relative 2^-24 to a value of at most 127
// code units (<= 1.6e-5 code units together), and fl(code * s) adds 127 * 2^-24 * s
// (7.6e-6 s): |error| <= s * (0.5 + 3e-5).

TEST_CASE_TEMPLATE(
    "round trip error <= scale / 2 (dynamic)",
    G,
    PerTensor,
    PerToken,
    PerChannel,
    PerGroup<1>,
    PerGroup<8>,
    PerGroup<16>) {
  // (9, 48) with rows spanning 4 decades and a padded leading dimension.
  auto x = random_float(9, 48, 42, -3.0f, 3.0f, 3);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) {
      x(r, c) *= std::pow(10.0f, static_cast<float>(r % 4) - 2.0f);
    }
  }
  auto const q = cpu::quantize_dynamic<G>(x.cref());
  Mat<float> back(x.rows, x.cols);
  cpu::dequantize<G>(q.view(), q.scales, back.ref());
  std::vector<float> group_max(q.scales.size(), 0.0f);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) {
      std::size_t const gi = group_of<G>(r, c, x.cols);
      float const s = q.scales[gi];
      double const err = std::fabs(static_cast<double>(x(r, c)) - back(r, c));
      CHECK(err <= static_cast<double>(s) * (0.5 + 3e-5));
      // Scales are the group's absmax / 127 (independent reduction).
      group_max[gi] = std::max(group_max[gi], std::fabs(x(r, c)));
    }
  }
  for (std::size_t i = 0; i < q.scales.size(); ++i) {
    CHECK(q.scales[i] == naive_scale(group_max[i]));
  }
  // The absmax element of every group maps to +-127: the full code range is used.
  std::vector<int> group_code_max(q.scales.size(), 0);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) {
      std::size_t const gi = group_of<G>(r, c, x.cols);
      int const code = q.codes[static_cast<std::size_t>(r * x.cols + c)];
      CHECK(code == naive_code(x(r, c), q.scales[gi]));
      group_code_max[gi] = std::max(group_code_max[gi], std::abs(code));
    }
  }
  for (int m : group_code_max) {
    CHECK(m == 127);
  }
}

TEST_CASE_TEMPLATE("round trip error <= scale / 2 (static, in range)", G, PerTensor, PerGroup<8>) {
  auto const x = random_float(5, 32, 7, -2.0f, 2.0f);
  // Scales covering the range (127 * s >= 2) so that nothing saturates.
  std::vector<float> scales(static_cast<std::size_t>(cpu::scale_count<G>(x.rows, x.cols)));
  for (std::size_t i = 0; i < scales.size(); ++i) {
    scales[i] = (2.0f + 0.25f * static_cast<float>(i % 3)) / 127.0f;
  }
  Mat<std::int8_t> codes(x.rows, x.cols);
  cpu::quantize_static<G>(x.cref(), scales, codes.ref());
  Mat<float> back(x.rows, x.cols);
  cpu::dequantize<G>(codes.cref(), scales, back.ref());
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) {
      std::size_t const gi = group_of<G>(r, c, x.cols);
      CHECK(codes(r, c) == naive_code(x(r, c), scales[gi]));
      CHECK(
          std::fabs(static_cast<double>(x(r, c)) - back(r, c)) <=
          static_cast<double>(scales[gi]) * (0.5 + 3e-5));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Planted spike: token 5 of a (64, 512) U(-1, 1) activation is multiplied by `factor`.

namespace {
constexpr std::int64_t kTokens = 64;
constexpr std::int64_t kFeatures = 512;
constexpr std::int64_t kSpikeRow = 5;

//! RMS of x - dequantize(codes) over every row except the spike row.
double rms_error_without_spike_row(
    Mat<float> const& x, Mat<std::int8_t> const& codes, std::vector<float> const& scales) {
  double sum = 0.0;
  std::int64_t n = 0;
  for (std::int64_t r = 0; r < x.rows; ++r) {
    if (r == kSpikeRow) {
      continue;
    }
    float const s = scales.size() == 1 ? scales[0] : scales[static_cast<std::size_t>(r)];
    for (std::int64_t c = 0; c < x.cols; ++c) {
      double const d = static_cast<double>(x(r, c)) - static_cast<double>(codes(r, c)) * s;
      sum += d * d;
      ++n;
    }
  }
  return std::sqrt(sum / static_cast<double>(n));
}

Mat<float> spiked(float factor) {
  auto x = random_float(kTokens, kFeatures, 2024);
  for (std::int64_t c = 0; c < kFeatures; ++c) {
    x(kSpikeRow, c) *= factor;
  }
  return x;
}
}  // namespace

TEST_CASE("planted spike: per-token error stays at the no-spike level") {
  auto const clean = spiked(1.0f);
  auto const spike = spiked(1000.0f);
  auto const [cc, cs] = qdyn<PerToken>(clean);
  auto const [sc, ss] = qdyn<PerToken>(spike);
  // Every other token keeps its own scale, so its codes and error are bit-identical.
  for (std::int64_t r = 0; r < kTokens; ++r) {
    if (r != kSpikeRow) {
      CHECK(cs[static_cast<std::size_t>(r)] == ss[static_cast<std::size_t>(r)]);
    }
  }
  CHECK(rms_error_without_spike_row(clean, cc, cs) == rms_error_without_spike_row(spike, sc, ss));
  // The spike token's own error is the same relative to its scale (1000x scale, same codes
  // up to float rounding of the scaled values).
  float const spike_scale = ss[static_cast<std::size_t>(kSpikeRow)];
  for (std::int64_t c = 0; c < kFeatures; ++c) {
    double const d =
        std::fabs(static_cast<double>(spike(kSpikeRow, c)) - sc(kSpikeRow, c) * spike_scale);
    CHECK(d <= static_cast<double>(spike_scale) * (0.5 + 3e-5));
  }
}

TEST_CASE("planted spike: per-tensor error grows by the expected factor") {
  auto const clean = spiked(1.0f);
  auto const [cc, cs] = qdyn<PerTensor>(clean);
  double const base = rms_error_without_spike_row(clean, cc, cs);
  // No spike: a = max|x| ~ 1, s0 = a / 127; rounding error ~ U(-s0/2, s0/2), RMS s0 / sqrt(12).
  CHECK(base == doctest::Approx(cs[0] / std::sqrt(12.0)).epsilon(0.05));

  SUBCASE("1000x spike: every other token rounds to 0; RMS ratio = 254") {
    // s = 1000 a / 127 ~ 7.9, so s / 2 ~ 3.9 > 1 >= |x|: every non-spike value gets code 0
    // and its error is x itself, RMS sqrt(E[x^2]) = 1 / sqrt(3) for U(-1, 1). Against the
    // no-spike RMS 1 / (127 sqrt(12)) the ratio is 127 sqrt(12) / sqrt(3) = 2 * 127 = 254
    // (not 1000: the error cannot exceed the signal).
    auto const spike = spiked(1000.0f);
    auto const [sc, ss] = qdyn<PerTensor>(spike);
    for (std::int64_t r = 0; r < kTokens; ++r) {
      for (std::int64_t c = 0; c < kFeatures && r != kSpikeRow; ++c) {
        CHECK(sc(r, c) == 0);
      }
    }
    double const ratio = rms_error_without_spike_row(spike, sc, ss) / base;
    MESSAGE("per-tensor RMS error ratio with a 1000x spike: ", ratio, " (expected ~254)");
    CHECK(ratio == doctest::Approx(254.0).epsilon(0.1));
  }
  SUBCASE("10x spike: the uniform-noise model holds; RMS ratio = 10") {
    // s = 10 a / 127 ~ 0.079 still resolves U(-1, 1) into ~25 codes, so the error stays
    // ~U(-s/2, s/2): RMS grows with the scale, by 10.
    auto const spike = spiked(10.0f);
    auto const [sc, ss] = qdyn<PerTensor>(spike);
    double const ratio = rms_error_without_spike_row(spike, sc, ss) / base;
    MESSAGE("per-tensor RMS error ratio with a 10x spike: ", ratio, " (expected ~10)");
    CHECK(ratio == doctest::Approx(10.0).epsilon(0.1));
  }
}

TEST_CASE("planted spike: a static scale calibrated without it saturates the spike, never wraps") {
  auto const clean = spiked(1.0f);
  auto const spike = spiked(1000.0f);
  auto const [cc, cs] = qdyn<PerTensor>(clean);
  Mat<std::int8_t> codes(kTokens, kFeatures);
  cpu::quantize_static<PerTensor>(spike.cref(), cs, codes.ref());
  // Other tokens see exactly the calibrated quantization.
  CHECK(
      rms_error_without_spike_row(spike, codes, cs) == rms_error_without_spike_row(clean, cc, cs));
  // The spike token saturates with the sign of x.
  for (std::int64_t c = 0; c < kFeatures; ++c) {
    float const v = spike(kSpikeRow, c);
    if (std::fabs(v) > 127.5f * cs[0]) {
      CHECK(codes(kSpikeRow, c) == (v > 0.0f ? 127 : -127));
    } else {
      CHECK(codes(kSpikeRow, c) == naive_code(v, cs[0]));
    }
  }
}

// ---------------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE(
    "all-zero tensors: scale 1, codes 0, dequantized 0",
    G,
    PerTensor,
    PerToken,
    PerChannel,
    PerGroup<4>) {
  Mat<float> const x(3, 8, 1, 0.0f);
  auto const q = cpu::quantize_dynamic<G>(x.cref());
  for (float s : q.scales) {
    CHECK(s == 1.0f);
  }
  for (auto c : q.codes) {
    CHECK(c == 0);
  }
  Mat<float> back(3, 8, 0, 5.0f);
  cpu::dequantize<G>(q.view(), q.scales, back.ref());
  for (float v : back.buf) {
    CHECK(v == 0.0f);
  }
}

TEST_CASE("non-finite values: static maps NaN to 0 and Inf to +-127") {
  float const nan = std::numeric_limits<float>::quiet_NaN();
  float const inf = std::numeric_limits<float>::infinity();
  auto const x = from_rows({{nan, inf, -inf, 3.0f}, {-nan, 1.0f, -1.0f, 0.0f}});
  Mat<std::int8_t> codes(2, 4);
  std::vector<float> const s = {0.5f};
  cpu::quantize_static<PerTensor>(x.cref(), s, codes.ref());
  CHECK(as_ints(codes) == std::vector<int>{0, 127, -127, 6, 0, 2, -2, 0});
}

TEST_CASE("non-finite values: dynamic quantize throws kNonFinite naming the scale") {
  float const nan = std::numeric_limits<float>::quiet_NaN();
  float const inf = std::numeric_limits<float>::infinity();
  auto x = from_rows({{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});
  x(2, 1) = nan;
  auto e = catch_error([&] { (void)cpu::quantize_dynamic<PerToken>(x.cref()); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
  CHECK(has(e, "per-token scale 2"));
  x(2, 1) = 6.0f;
  x(0, 0) = -inf;
  e = catch_error([&] { (void)cpu::quantize_dynamic<PerTensor>(x.cref()); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
  CHECK(has(e, "per-tensor scale 0"));
  e = catch_error([&] { (void)cpu::quantize_dynamic<PerGroup<1>>(x.cref()); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
  // AQ1 through the policy entry point.
  std::vector<float> scales(3);
  Mat<std::int8_t> codes(3, 2);
  e = catch_error([&] { cpu::quantize<AQ1>(x.cref(), codes.ref(), scales); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
}

TEST_CASE("policy entry point equals the direct call") {
  auto const x = random_float(6, 20, 5);
  auto const direct = cpu::quantize_dynamic<PerToken>(x.cref());
  Mat<std::int8_t> codes(6, 20);
  std::vector<float> scales(6);
  cpu::quantize<AQ1>(x.cref(), codes.ref(), scales);
  CHECK(scales == direct.scales);
  CHECK(codes.buf == direct.codes);
  std::vector<float> ts(1);
  cpu::quantize<AQ2>(x.cref(), codes.ref(), ts);
  CHECK(ts == cpu::quantize_dynamic<PerTensor>(x.cref()).scales);
}

TEST_CASE("AbsMax fast fold equals folding absmax_update in order, bit for bit") {
  // detail::fold takes AbsMax's lane-parallel path unless the run holds a NaN; the in-order
  // fold is the definition. Runs of every length 0..40 (full lanes and tails) mix -0, +0, a
  // denormal, ties, +-Inf and, in some runs, NaNs of both signs; starting statistics include
  // the +0 identity, a value larger than any |x|, and NaN.
  float const nan = std::numeric_limits<float>::quiet_NaN();
  float const inf = std::numeric_limits<float>::infinity();
  std::vector<float> const pool = {
      -0.0f, 0.0f, 1e-40f, 0.5f, -0.5f, 3.0f, -3.0f, 7.25f, -7.25f, inf, -inf, nan, -nan};
  auto const bits = [](float v) { return std::bit_cast<std::uint32_t>(v); };
  AbsMax const e;
  std::uint32_t state = 1;
  auto const next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (std::int64_t n = 0; n <= 40; ++n) {
    for (int trial = 0; trial < 40; ++trial) {
      // Trials 0-19 draw from the finite values only, 20-29 add +-Inf, 30-39 add NaNs.
      std::size_t const choices = trial < 20 ? 9 : (trial < 30 ? 11 : pool.size());
      std::vector<float> x(static_cast<std::size_t>(n));
      for (auto& v : x) {
        v = pool[next() % choices];
      }
      for (float const acc : {e.identity(), 100.0f, nan, -nan}) {
        float const in_order = cpu::detail::fold_in_order(e, acc, x.data(), n);
        float const fast = cpu::detail::fold(e, acc, x.data(), n);
        CAPTURE(n);
        CAPTURE(trial);
        CAPTURE(acc);
        CHECK(bits(fast) == bits(in_order));
      }
    }
  }
}

TEST_CASE("dynamic quantize: the first non-finite scale throws, earlier scales are written") {
  float const nan = std::numeric_limits<float>::quiet_NaN();
  auto x = random_float(5, 37, 9);
  x(1, 3) = -nan;
  x(3, 30) = nan;
  Mat<std::int8_t> codes(5, 37, 0, std::int8_t{55});
  std::vector<float> scales(5, -1.0f);
  auto const e =
      catch_error([&] { cpu::quantize_dynamic<PerToken>(x.cref(), codes.ref(), scales); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
  CHECK(has(e, "per-token scale 1"));
  CHECK(scales[0] > 0.0f);
  CHECK(std::isnan(scales[1]));
  CHECK(scales[2] == -1.0f);  // not reached
  CHECK(std::all_of(codes.buf.begin(), codes.buf.end(), [](std::int8_t c) { return c == 55; }));
}
