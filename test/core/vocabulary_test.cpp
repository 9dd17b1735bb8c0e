// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The run-time vocabulary: ActScheme, LinearMode and GluKind names round-trip through
//! their one parser, bad names give an Error naming the valid values, and dispatch reaches
//! the policy / tag each value names.
#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/activation.hpp"
#include "spikequant/core/linear_mode.hpp"

#include <cmath>
#include <concepts>
#include <doctest/doctest.h>
#include <string>
#include <string_view>

using namespace spikequant;

namespace {
//! The message of the Error `f` throws (empty when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
    return e.what();
  }
  return {};
}
bool contains(std::string const& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("ActScheme: the documented names, and every spelling parses back") {
  CHECK(to_string(ActScheme::kPerToken) == "w8a8-per-token");
  CHECK(to_string(ActScheme::kPerTensor) == "w8a8-per-tensor");
  CHECK(to_string(ActScheme::kStatic) == "w8a8-static");
  CHECK(short_name(ActScheme::kPerToken) == "per-token");
  CHECK(short_name(ActScheme::kPerTensor) == "per-tensor");
  CHECK(short_name(ActScheme::kStatic) == "static");
  CHECK(paper_name(ActScheme::kPerToken) == "AQ1");
  CHECK(paper_name(ActScheme::kPerTensor) == "AQ2");
  CHECK(paper_name(ActScheme::kStatic) == "AQ3");
  for (ActScheme s : kAllActSchemes) {
    CAPTURE(to_string(s));
    CHECK(parse_act_scheme(to_string(s)) == s);
    CHECK(parse_act_scheme(short_name(s)) == s);
    CHECK(parse_act_scheme(paper_name(s)) == s);
  }
  // The paper's Table 3 column names, in either case.
  CHECK(parse_act_scheme("aq1") == ActScheme::kPerToken);
  CHECK(parse_act_scheme("AQ2") == ActScheme::kPerTensor);
  CHECK(parse_act_scheme("aq3") == ActScheme::kStatic);
  CHECK(try_parse_act_scheme("int4") == std::nullopt);
  CHECK(try_parse_act_scheme("") == std::nullopt);
}

TEST_CASE("ActScheme: a bad name throws Error naming it and the valid values") {
  std::string const msg = error_of([] { (void)parse_act_scheme("int4"); });
  CHECK(contains(msg, "'int4'"));
  for (ActScheme s : kAllActSchemes) {
    CHECK(contains(msg, to_string(s)));
  }
}

TEST_CASE("dispatch(ActScheme) calls f with the policy the scheme names") {
  for (ActScheme s : kAllActSchemes) {
    CAPTURE(to_string(s));
    // act_scheme_of inverts dispatch: the policy f receives maps back to s.
    ActScheme const back = dispatch(s, []<class P>(P) { return act_scheme_of<P>; });
    CHECK(back == s);
    bool const dynamic = dispatch(s, []<class P>(P) { return P::is_dynamic; });
    CHECK(dynamic == (s != ActScheme::kStatic));
    bool const absmax =
        dispatch(s, []<class P>(P) { return std::same_as<typename P::Estimator, AbsMax>; });
    CHECK(absmax);
  }
  // A void-returning f and the exact policy types (AQ1/AQ2/AQ3, not look-alikes).
  int which = -1;
  dispatch(ActScheme::kPerTensor, [&]<class P>(P) {
    which = std::same_as<P, AQ1> ? 1 : std::same_as<P, AQ2> ? 2 : std::same_as<P, AQ3> ? 3 : 0;
  });
  CHECK(which == 2);
  std::string const msg =
      error_of([] { (void)dispatch(static_cast<ActScheme>(7), [](auto) { return 0; }); });
  CHECK(contains(msg, "7"));
}

TEST_CASE("LinearMode: names round-trip, bad names are an Error naming the valid ones") {
  CHECK(to_string(LinearMode::kFloat) == "fp32");
  CHECK(to_string(LinearMode::kW8A16) == "w8a16");
  CHECK(to_string(LinearMode::kW8A8) == "w8a8");
  for (LinearMode m : kAllLinearModes) {
    CHECK(parse_linear_mode(to_string(m)) == m);
  }
  std::string const msg = error_of([] { (void)parse_linear_mode("w4a16"); });
  CHECK(contains(msg, "'w4a16'"));
  CHECK(contains(msg, "fp32"));
  CHECK(contains(msg, "w8a16"));
}

TEST_CASE("GluKind: names round-trip and dispatch reaches the tag's function") {
  CHECK(to_string(GluKind::kSwiGlu) == "swiglu");
  CHECK(to_string(GluKind::kGeGlu) == "geglu");
  for (GluKind k : {GluKind::kSwiGlu, GluKind::kGeGlu}) {
    CHECK(parse_glu_kind(to_string(k)) == k);
  }
  std::string const msg = error_of([] { (void)parse_glu_kind("relu"); });
  CHECK(contains(msg, "'relu'"));
  CHECK(contains(msg, "swiglu"));
  // Independent references: silu(1) = 1 / (1 + e^-1); gelu_tanh(1) from its formula.
  double const silu1 = 1.0 / (1.0 + std::exp(-1.0));
  double const gelu1 = 0.5 * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (1.0 + 0.044715)));
  float const s = dispatch(GluKind::kSwiGlu, [](auto act) { return act(1.0f); });
  float const g = dispatch(GluKind::kGeGlu, [](auto act) { return act(1.0f); });
  CHECK(s == doctest::Approx(silu1).epsilon(1e-6));
  CHECK(g == doctest::Approx(gelu1).epsilon(1e-6));
  std::string_view const name =
      dispatch(GluKind::kGeGlu, [](auto act) { return std::string_view(decltype(act)::name); });
  CHECK(name == "gelu-tanh");
}
