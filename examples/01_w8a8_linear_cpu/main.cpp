// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Example 01: one linear layer y = x W^T run as W8A8 (AQ1, AQ2, AQ3), W8A16 and float.
//!
//! What it teaches
//!   How the CPU reference runs a quantized linear: the weight is quantized once per output
//!   channel (QuantizedWeight), the activation per token (AQ1), per tensor (AQ2) or with a
//!   calibrated static scale (AQ3); the INT8 x INT8 product accumulates in int32 and the
//!   dequant epilogue multiplies by the two scales. W8A16 keeps the activation in float
//!   (what QFeM does for modules with activation spikes). Every mode is compared with the
//!   float result, once on ordinary inputs and once with a spike token in the batch.
//!   Expected: all modes are close on ordinary inputs; with the spike, AQ2 and AQ3 break on
//!   the other tokens (AQ2) or on the spike (AQ3), while AQ1 and W8A16 stay close.
//!
//! Non-goals
//!   No GPU kernel, no speed (see bench/cpu), no real model weights: synthetic data.
//!
//! How to run
//!   cmake -S . -B build -DSPIKEQUANT_ENABLE_CUDA=OFF
//!   cmake --build build --target example_01_w8a8_linear_cpu
//!   ./build/examples/01_w8a8_linear_cpu/example_01_w8a8_linear_cpu
//!   Prints a table and "Passed" (exit 0) or "Failed" (exit 1).
#include "spikequant/spikequant.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

namespace sq = spikequant;

namespace {

constexpr std::int64_t kTokens = 16;
constexpr std::int64_t kIn = 512;
constexpr std::int64_t kOut = 256;

//! Relative Frobenius error of y against the float reference, over tokens [first, kTokens).
double rel_error(std::vector<float> const& y, std::vector<float> const& ref, std::int64_t first) {
  double num = 0.0;
  double den = 0.0;
  for (auto i = static_cast<std::size_t>(first * kOut); i < y.size(); ++i) {
    num += (static_cast<double>(y[i]) - ref[i]) * (static_cast<double>(y[i]) - ref[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / den);
}

struct Row {
  char const* name;
  double others;  //!< error on tokens 1.. (all tokens when there is no spike)
  double spike;   //!< error on token 0 alone
};

}  // namespace

int main() {
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> w(static_cast<std::size_t>(kOut * kIn));  // (N, K) float weight
  for (auto& v : w) {
    v = 0.05f * u(gen);
  }
  std::vector<float> x(static_cast<std::size_t>(kTokens * kIn));  // (M, K) float activation
  for (auto& v : x) {
    v = u(gen);
  }
  sq::MatrixRef<float const> const wr{w.data(), kOut, kIn, kIn};
  sq::cpu::QuantizedWeight const wq = sq::cpu::quantize_weight(wr);  // (N, K) int8 + N scales
  // AQ3's static scale: absmax / 127 of the spike-free activation (a calibration stand-in).
  float amax = 0.0f;
  for (float v : x) {
    amax = std::fmax(amax, std::fabs(v));
  }
  float const static_scale = amax / 127.0f;

  bool ok = true;
  for (bool spike : {false, true}) {
    if (spike) {
      for (std::int64_t k = 0; k < kIn; ++k) {
        x[static_cast<std::size_t>(k)] *= 1000.0f;  // token 0 becomes a 1000x spike
      }
    }
    sq::MatrixRef<float const> const xr{x.data(), kTokens, kIn, kIn};
    std::vector<float> ref(static_cast<std::size_t>(kTokens * kOut));  // (M, N) float
    sq::cpu::linear_float(xr, wr, {}, {ref.data(), kTokens, kOut, kOut});

    std::vector<float> y(ref.size());  // (M, N) float
    sq::MatrixRef<float> const yr{y.data(), kTokens, kOut, kOut};
    std::vector<Row> rows;
    auto const record = [&](char const* name) {
      std::vector<float> spike_y(y.begin(), y.begin() + kOut);
      std::vector<float> spike_ref(ref.begin(), ref.begin() + kOut);
      rows.push_back({name, rel_error(y, ref, spike ? 1 : 0), rel_error(spike_y, spike_ref, 0)});
    };
    sq::cpu::linear_w8a8<sq::AQ1>(xr, wq, yr);
    record("W8A8 AQ1 per-token");
    sq::cpu::linear_w8a8<sq::AQ2>(xr, wq, yr);
    record("W8A8 AQ2 per-tensor");
    sq::cpu::linear_w8a8<sq::AQ3>(xr, wq, yr, static_scale);
    record("W8A8 AQ3 static");
    sq::cpu::linear_w8a16(xr, wq, {}, yr);
    record("W8A16");

    std::printf(
        "\n%s (M, N, K) = (%lld, %lld, %lld), error relative to float y = x W^T\n",
        spike ? "with a 1000x spike on token 0" : "ordinary activations",
        static_cast<long long>(kTokens),
        static_cast<long long>(kOut),
        static_cast<long long>(kIn));
    std::printf("%-22s %16s %16s\n", "mode", spike ? "other tokens" : "all tokens", "token 0");
    for (auto const& r : rows) {
      std::printf("%-22s %16.5f %16.5f\n", r.name, r.others, r.spike);
    }
    // Budgets (relative Frobenius error): every mode < 2% on ordinary data; with the spike,
    // AQ1 and W8A16 stay < 2% everywhere, AQ2 > 50% on the other tokens (they round to 0),
    // AQ3 > 50% on the spike token (clipped at the calibrated range).
    if (!spike) {
      for (auto const& r : rows) {
        ok = ok && r.others < 0.02;
      }
    } else {
      ok = ok && rows[0].others < 0.02 && rows[0].spike < 0.02;
      ok = ok && rows[1].others > 0.5;
      ok = ok && rows[2].others < 0.02 && rows[2].spike > 0.5;
      ok = ok && rows[3].others < 0.02 && rows[3].spike < 0.02;
    }
  }
  std::printf("\n%s\n", ok ? "Passed" : "Failed");
  return ok ? 0 : 1;
}
