// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Example 00: why one activation spike ruins per-tensor INT8 but not per-token INT8.
//!
//! What it teaches
//!   An activation (tokens x features) gets a planted spike: one token is 1000x larger than
//!   the rest, as at the input of `down` in early/late layers of GLU LLMs (see PAPER.md).
//!   The same tensor is quantized three ways and dequantized back:
//!     - per-token dynamic  (AQ1): one scale per token, computed from the tensor;
//!     - per-tensor dynamic (AQ2): one scale for everything, computed from the tensor;
//!     - per-tensor static  (AQ3): one scale calibrated on spike-free data, fixed in advance.
//!   It prints the error on the ordinary tokens and on the spike token for each scheme.
//!   Expected: per-token keeps the ordinary tokens at the spike-free error; per-tensor rounds
//!   them all to zero (its scale follows the spike); static keeps them but clips the spike.
//!
//! Non-goals
//!   No GEMM (example 01), no GPU, no real model: the data is synthetic U(-1, 1).
//!
//! How to run
//!   cmake -S . -B build -DSPIKEQUANT_ENABLE_CUDA=OFF
//!   cmake --build build --target example_00_quantize_tensor
//!   ./build/examples/00_quantize_tensor/example_00_quantize_tensor
//!   Prints a table and "Passed" (exit 0) or "Failed" (exit 1).
#include "spikequant/spikequant.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

namespace sq = spikequant;

namespace {

constexpr std::int64_t kTokens = 32;
constexpr std::int64_t kFeatures = 256;
constexpr std::int64_t kSpike = 0;  // the BOS-like token that carries the spike
constexpr float kSpikeFactor = 1000.0f;

struct Errors {
  double ordinary_rms = 0.0;  //!< RMS |x - deq(q(x))| over every token except the spike
  double spike_rel = 0.0;     //!< RMS error on the spike token / RMS of the spike token
};

//! Measures the errors of codes + scales (one scale per token, or one for all) against x.
Errors measure(
    std::vector<float> const& x, std::vector<std::int8_t> const& codes, std::span<float const> s) {
  double ord = 0.0;
  double spike_err = 0.0;
  double spike_sig = 0.0;
  for (std::int64_t t = 0; t < kTokens; ++t) {
    float const scale = s.size() == 1 ? s[0] : s[static_cast<std::size_t>(t)];
    for (std::int64_t j = 0; j < kFeatures; ++j) {
      auto const i = static_cast<std::size_t>(t * kFeatures + j);
      double const d = static_cast<double>(x[i]) - static_cast<double>(codes[i]) * scale;
      if (t == kSpike) {
        spike_err += d * d;
        spike_sig += static_cast<double>(x[i]) * x[i];
      } else {
        ord += d * d;
      }
    }
  }
  return {
      std::sqrt(ord / static_cast<double>((kTokens - 1) * kFeatures)),
      std::sqrt(spike_err / spike_sig)};
}

}  // namespace

int main() {
  // (tokens, features) activation, U(-1, 1), then the spike token scaled by 1000.
  std::vector<float> x(static_cast<std::size_t>(kTokens * kFeatures));  // (T, F) float
  std::mt19937 gen(0);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto& v : x) {
    v = u(gen);
  }
  // Calibrate the static scale on the spike-free tensor (absmax / 127), as AQ3 would from a
  // calibration set that does not contain this spike.
  float calibrated = 0.0f;
  for (float v : x) {
    calibrated = std::fmax(calibrated, std::fabs(v));
  }
  calibrated /= 127.0f;
  for (std::int64_t j = 0; j < kFeatures; ++j) {
    x[static_cast<std::size_t>(kSpike * kFeatures + j)] *= kSpikeFactor;
  }
  sq::MatrixRef<float const> const xr = sq::make_matrix_ref(x.data(), kTokens, kFeatures);

  std::vector<std::int8_t> codes(x.size());  // (T, F) int8
  sq::MatrixRef<std::int8_t> const cr{codes.data(), kTokens, kFeatures, kFeatures};

  // AQ1: per-token dynamic.
  std::vector<float> token_scales(kTokens);
  sq::cpu::quantize<sq::AQ1>(xr, cr, token_scales);
  Errors const aq1 = measure(x, codes, token_scales);
  // AQ2: per-tensor dynamic.
  std::vector<float> tensor_scale(1);
  sq::cpu::quantize<sq::AQ2>(xr, cr, tensor_scale);
  Errors const aq2 = measure(x, codes, tensor_scale);
  // AQ3: per-tensor static, scale fixed before seeing the spike.
  std::vector<float> static_scale = {calibrated};
  sq::cpu::quantize<sq::AQ3>(xr, cr, static_scale);
  Errors const aq3 = measure(x, codes, static_scale);

  // The float reference for "how small can it be": quantization noise of a U(-1, 1) token
  // with scale ~1/127 is RMS (1/127) / sqrt(12) ~ 0.0023.
  double const noise_floor = (1.0 / 127.0) / std::sqrt(12.0);
  std::printf(
      "planted spike: token %lld x%.0f in a (%lld, %lld) U(-1, 1) activation\n",
      static_cast<long long>(kSpike),
      static_cast<double>(kSpikeFactor),
      static_cast<long long>(kTokens),
      static_cast<long long>(kFeatures));
  std::printf("float reference: error 0; rounding-noise floor ~%.4f\n\n", noise_floor);
  std::printf("%-24s %22s %24s\n", "scheme", "RMS err, other tokens", "rel. err, spike token");
  std::printf("%-24s %22.5f %24.5f\n", "AQ1 per-token dynamic", aq1.ordinary_rms, aq1.spike_rel);
  std::printf("%-24s %22.5f %24.5f\n", "AQ2 per-tensor dynamic", aq2.ordinary_rms, aq2.spike_rel);
  std::printf("%-24s %22.5f %24.5f\n", "AQ3 per-tensor static", aq3.ordinary_rms, aq3.spike_rel);

  // Pass criteria, from the arithmetic in quantize_test.cpp:
  // - AQ1 ordinary tokens stay within 20% of the noise floor; its spike token too (relative).
  // - AQ2 ordinary tokens all round to 0, error = RMS of U(-1, 1) = 1/sqrt(3) ~ 0.577
  //   (over 100x the floor).
  // - AQ3 ordinary tokens are at the floor, but the spike is clipped at 127 * scale ~ 1,
  //   so its relative error is close to 1.
  bool const ok = aq1.ordinary_rms < 1.2 * noise_floor && aq1.spike_rel < 0.01 &&
                  aq2.ordinary_rms > 100.0 * noise_floor && aq3.ordinary_rms < 1.2 * noise_floor &&
                  aq3.spike_rel > 0.9;
  std::printf("\n%s\n", ok ? "Passed" : "Failed");
  return ok ? 0 : 1;
}
