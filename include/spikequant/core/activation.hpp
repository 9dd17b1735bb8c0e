// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file GLU activation functions (SiLU, tanh-approximated GELU) per element, for host and device.
#pragma once

#include "spikequant/core/config.hpp"

#include <cmath>
#include <concepts>
#include <string_view>

namespace spikequant::inline v0 {

//! silu(x) = x * sigmoid(x) = x / (1 + exp(-x)) (LLaMA, Mistral: SwiGLU).
//! - Large negative x: exp(-x) overflows to +Inf and the result is -0, never NaN.
//! - NaN propagates.
SPIKEQUANT_HOST_DEVICE float silu(float x) {
#if defined(__CUDA_ARCH__)
  return x / (1.0f + expf(-x));
#else
  return x / (1.0f + std::exp(-x));
#endif
}

//! gelu_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Gemma: GeGLU,
//! PyTorch `gelu(approximate="tanh")`).
//! - NaN propagates; tanh saturates to +-1 for large |x|, so the result tends to x or 0.
SPIKEQUANT_HOST_DEVICE float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  constexpr float kCoeff = 0.044715f;
  float const inner = kSqrt2OverPi * (x + kCoeff * x * x * x);
#if defined(__CUDA_ARCH__)
  return 0.5f * x * (1.0f + tanhf(inner));
#else
  return 0.5f * x * (1.0f + std::tanh(inner));
#endif
}

namespace activation {
//! Tag + functor for SiLU: SwiGLU is silu(gate) * up.
struct Silu {
  static constexpr std::string_view name = "silu";
  SPIKEQUANT_HOST_DEVICE float operator()(float x) const { return silu(x); }
};
//! Tag + functor for tanh-approximated GELU: GeGLU is gelu_tanh(gate) * up.
struct GeluTanh {
  static constexpr std::string_view name = "gelu-tanh";
  SPIKEQUANT_HOST_DEVICE float operator()(float x) const { return gelu_tanh(x); }
};
}  // namespace activation

//! A GLU gate activation: default-constructible (a tag) and callable float -> float.
template <class A>
concept GluActivation = std::semiregular<A> && requires(A const a, float x) {
  // Applied once per gate element; must be a pure function of x so CPU and CUDA agree.
  { a(x) } -> std::same_as<float>;
  // Printed in logs and benchmark names.
  { A::name } -> std::convertible_to<std::string_view>;
};

//! One GLU output element: act(gate) * up.
template <GluActivation A>
SPIKEQUANT_HOST_DEVICE float glu_value(float gate, float up, A const act = {}) {
  return act(gate) * up;
}

static_assert(GluActivation<activation::Silu>);
static_assert(GluActivation<activation::GeluTanh>);

}  // namespace spikequant::v0
