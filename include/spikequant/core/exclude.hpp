// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Module exclusion predicates for QFeM, composable with &&, || and !:
//! `ratio_above(6.68) || name_matches("layers\\.31\\.")`. Host only.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/module.hpp"

#include <algorithm>
#include <cmath>
#include <concepts>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace spikequant::inline v0 {

//! What a predicate may look at: the module and, once calibrated, its max-median ratio r(m).
struct ModuleInfo {
  ModuleId id;
  //! r(m) from calibration; NaN when not measured (ratio_above is then false).
  double ratio = std::numeric_limits<double>::quiet_NaN();
};

//! A callable that decides whether a module stays unquantized (W8A16).
template <class P>
concept ModulePredicate = std::predicate<P const&, ModuleInfo const&>;

//! A type-erased, composable exclusion predicate that remembers how it was built, so
//! plans, logs and recipes can print `ratio_above(6.68) || kind_is(down)`.
class ModuleFilter {
public:
  //! Wraps any ModulePredicate with a description for printing.
  template <ModulePredicate P>
  ModuleFilter(P predicate, std::string description)
      : fn_(std::make_shared<std::function<bool(ModuleInfo const&)>>(std::move(predicate)))
      , description_(std::move(description)) {}

  [[nodiscard]] bool operator()(ModuleInfo const& info) const { return (*fn_)(info); }
  [[nodiscard]] std::string const& description() const noexcept { return description_; }

  friend ModuleFilter operator&&(ModuleFilter a, ModuleFilter b) {
    std::string d = "(" + a.description_ + " && " + b.description_ + ")";
    return {
        [a = std::move(a), b = std::move(b)](ModuleInfo const& m) { return a(m) && b(m); },
        std::move(d)};
  }
  friend ModuleFilter operator||(ModuleFilter a, ModuleFilter b) {
    std::string d = "(" + a.description_ + " || " + b.description_ + ")";
    return {
        [a = std::move(a), b = std::move(b)](ModuleInfo const& m) { return a(m) || b(m); },
        std::move(d)};
  }
  friend ModuleFilter operator!(ModuleFilter a) {
    std::string d = "!" + a.description_;
    return {[a = std::move(a)](ModuleInfo const& m) { return !a(m); }, std::move(d)};
  }

private:
  std::shared_ptr<std::function<bool(ModuleInfo const&)>> fn_;
  std::string description_;
};

//! Matches no module (alpha = infinity: quantize everything).
inline ModuleFilter exclude_none() {
  return {[](ModuleInfo const&) { return false; }, "none"};
}

//! r(m) > alpha. Modules without a measured ratio never match. alpha must not be NaN.
inline ModuleFilter ratio_above(double alpha) {
  require(!std::isnan(alpha), ErrorKind::kInvalidArgument, "ratio_above: alpha is NaN");
  std::ostringstream d;
  d << "ratio_above(" << alpha << ")";
  return {
      [alpha](ModuleInfo const& m) { return !std::isnan(m.ratio) && m.ratio > alpha; }, d.str()};
}

//! ECMAScript regex searched in the module's Hugging Face name (hf_name), e.g.
//! "layers\\.(0|31)\\.mlp". Throws Error for an invalid pattern.
inline ModuleFilter name_matches(std::string const& pattern) {
  std::shared_ptr<std::regex const> re;
  try {
    re = std::make_shared<std::regex const>(pattern, std::regex::ECMAScript);
  } catch (std::regex_error const& e) {
    fail(ErrorKind::kInvalidArgument, "name_matches: invalid regex '", pattern, "': ", e.what());
  }
  return {
      [re](ModuleInfo const& m) { return std::regex_search(hf_name(m.id), *re); },
      "name_matches(\"" + pattern + "\")"};
}

//! Module's layer is one of `layers`.
inline ModuleFilter in_layers(std::initializer_list<int> layers) {
  std::set<int> set(layers);
  std::ostringstream d;
  d << "in_layers(";
  bool first = true;
  for (int l : set) {
    d << (first ? "" : ", ") << l;
    first = false;
  }
  d << ")";
  return {
      [set = std::move(set)](ModuleInfo const& m) { return set.contains(m.id.layer); }, d.str()};
}

//! Module's kind is one of `kinds`.
inline ModuleFilter kind_is(std::initializer_list<ModuleKind> kinds) {
  std::vector<ModuleKind> v(kinds);
  std::string d = "kind_is(";
  for (std::size_t i = 0; i < v.size(); ++i) {
    d += (i ? ", " : "") + std::string(to_string(v[i]));
  }
  d += ")";
  return {
      [v = std::move(v)](ModuleInfo const& m) {
        return std::find(v.begin(), v.end(), m.id.kind) != v.end();
      },
      d};
}

}  // namespace spikequant::v0
