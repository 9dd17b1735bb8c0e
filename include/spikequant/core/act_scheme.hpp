// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file ActScheme: the run-time name of the paper's three activation policies (AQ1/AQ2/AQ3),
//! its one spelling table (to_string / short_name / paper_name / parse_act_scheme) and the two
//! directions of the mapping to the compile-time policies: act_scheme_of<P> and dispatch(scheme,
//! f). Backends instantiate on the policy types; the command line, plans and recipes carry the
//! enum, and dispatch is the one place the two meet.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/granularity.hpp"
#include "spikequant/core/policy.hpp"

#include <array>
#include <concepts>
#include <optional>
#include <string_view>
#include <utility>

namespace spikequant::inline v0 {

//! The run-time names of the activation schemes the command line, plans and recipes use.
enum class ActScheme { kPerToken, kPerTensor, kStatic };

namespace detail {
struct ActSchemeSpelling {
  ActScheme scheme;
  std::string_view name;         //!< to_string: "w8a8-per-token"
  std::string_view short_name;   //!< short_name: "per-token" (BMM settings)
  std::string_view paper_lower;  //!< "aq1", also accepted by parse_act_scheme
  std::string_view paper_upper;  //!< paper_name: "AQ1" (the paper's Table 3 columns)
};
inline constexpr std::array<ActSchemeSpelling, 3> kActSchemeSpellings = {{
    {ActScheme::kPerToken, "w8a8-per-token", "per-token", "aq1", "AQ1"},
    {ActScheme::kPerTensor, "w8a8-per-tensor", "per-tensor", "aq2", "AQ2"},
    {ActScheme::kStatic, "w8a8-static", "static", "aq3", "AQ3"},
}};
}  // namespace detail

//! Every ActScheme, in declaration order.
inline constexpr std::array<ActScheme, 3> kAllActSchemes = {
    ActScheme::kPerToken, ActScheme::kPerTensor, ActScheme::kStatic};

//! "w8a8-per-token" / "w8a8-per-tensor" / "w8a8-static".
inline constexpr std::string_view to_string(ActScheme s) noexcept {
  for (auto const& sp : detail::kActSchemeSpellings) {
    if (sp.scheme == s) {
      return sp.name;
    }
  }
  return "unknown";
}

//! "per-token" / "per-tensor" / "static": the name without the "w8a8-" of the linear
//! modules, used where only the activation side is meant (QuantPlan::bmm, `--bmm`).
inline constexpr std::string_view short_name(ActScheme s) noexcept {
  for (auto const& sp : detail::kActSchemeSpellings) {
    if (sp.scheme == s) {
      return sp.short_name;
    }
  }
  return "unknown";
}

//! "AQ1" / "AQ2" / "AQ3": the paper's Table 3 column names (reports, plots).
inline constexpr std::string_view paper_name(ActScheme s) noexcept {
  for (auto const& sp : detail::kActSchemeSpellings) {
    if (sp.scheme == s) {
      return sp.paper_upper;
    }
  }
  return "unknown";
}

//! Parses to_string's names, short_name's names and the paper's "aq1".."aq3" ("AQ1".."AQ3");
//! nullopt for anything else.
inline constexpr std::optional<ActScheme> try_parse_act_scheme(std::string_view s) noexcept {
  for (auto const& sp : detail::kActSchemeSpellings) {
    if (s == sp.name || s == sp.short_name || s == sp.paper_lower || s == sp.paper_upper) {
      return sp.scheme;
    }
  }
  return std::nullopt;
}

//! try_parse_act_scheme, throwing Error(kInvalidArgument) naming the valid values instead of
//! returning nullopt.
inline ActScheme parse_act_scheme(std::string_view s) {
  if (auto const scheme = try_parse_act_scheme(s)) {
    return *scheme;
  }
  fail(
      ErrorKind::kInvalidArgument,
      "unknown activation scheme '",
      s,
      "' (expected w8a8-per-token, w8a8-per-tensor or w8a8-static; also per-token, "
      "per-tensor, static, aq1, aq2, aq3)");
}

//! The policy type an ActScheme names: AQ1, AQ2 or AQ3 (absmax estimator).
template <ActScheme S>
using policy_of = std::conditional_t<
    S == ActScheme::kPerToken,
    AQ1,
    std::conditional_t<S == ActScheme::kPerTensor, AQ2, AQ3>>;

//! The ActScheme a compile-time policy corresponds to (its granularity and scale source; the
//! estimator is not part of the run-time name: a backend that takes P honours P::Estimator).
template <ActivationPolicy P>
requires(!is_per_group_v<typename P::Granularity>) inline constexpr ActScheme act_scheme_of =
    std::same_as<typename P::Granularity, granularity::PerToken>
        ? ActScheme::kPerToken
        : (P::is_dynamic ? ActScheme::kPerTensor : ActScheme::kStatic);

//! Calls `f(P{})` with P = policy_of<scheme> and returns what it returns: the one switch from
//! the run-time scheme to the compile-time policy. `f` must accept each of AQ1, AQ2, AQ3
//! (a generic lambda: `dispatch(s, [&]<class P>(P) { run<P>(...); })`) with one return type.
template <class F>
decltype(auto) dispatch(ActScheme scheme, F&& f) {
  switch (scheme) {
  case ActScheme::kPerToken:
    return std::forward<F>(f)(AQ1{});
  case ActScheme::kPerTensor:
    return std::forward<F>(f)(AQ2{});
  case ActScheme::kStatic:
    return std::forward<F>(f)(AQ3{});
  }
  fail(ErrorKind::kInvalidArgument, "dispatch: unknown ActScheme ", static_cast<int>(scheme));
}

static_assert(act_scheme_of<policy_of<ActScheme::kPerToken>> == ActScheme::kPerToken);
static_assert(act_scheme_of<policy_of<ActScheme::kPerTensor>> == ActScheme::kPerTensor);
static_assert(act_scheme_of<policy_of<ActScheme::kStatic>> == ActScheme::kStatic);

}  // namespace spikequant::v0
