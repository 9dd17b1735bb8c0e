// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file GLU activation functions (SiLU, tanh-approximated GELU) per element, for host and
//! device: the tags (activation::Silu, activation::GeluTanh), their concept GluActivation, and
//! GluKind, the run-time name a model's config carries, with dispatch(kind, f) to the tag.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/core/error.hpp"

#include <cmath>
#include <concepts>
#include <string_view>
#include <utility>

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

//! Which gate activation a model's FFN uses (the run-time form of the activation tags).
enum class GluKind {
  kSwiGlu,  //!< silu(gate) * up: LLaMA, Mistral, Mixtral
  kGeGlu,   //!< gelu_tanh(gate) * up: Gemma (Hugging Face's gelu_pytorch_tanh)
};

//! "swiglu" / "geglu".
inline constexpr std::string_view to_string(GluKind kind) noexcept {
  switch (kind) {
  case GluKind::kSwiGlu:
    return "swiglu";
  case GluKind::kGeGlu:
    return "geglu";
  }
  return "unknown";
}

//! Parses to_string's names. Throws Error(kInvalidArgument) naming the valid values otherwise.
inline GluKind parse_glu_kind(std::string_view s) {
  for (GluKind k : {GluKind::kSwiGlu, GluKind::kGeGlu}) {
    if (s == to_string(k)) {
      return k;
    }
  }
  fail(ErrorKind::kInvalidArgument, "unknown GLU activation '", s, "' (expected swiglu or geglu)");
}

//! Calls `f(A{})` with the tag of `kind` (activation::Silu or activation::GeluTanh) and
//! returns what it returns: the one switch from the run-time kind to the tag.
template <class F>
decltype(auto) dispatch(GluKind kind, F&& f) {
  switch (kind) {
  case GluKind::kSwiGlu:
    return std::forward<F>(f)(activation::Silu{});
  case GluKind::kGeGlu:
    return std::forward<F>(f)(activation::GeluTanh{});
  }
  fail(ErrorKind::kInvalidArgument, "dispatch: unknown GluKind ", static_cast<int>(kind));
}

}  // namespace spikequant::v0
