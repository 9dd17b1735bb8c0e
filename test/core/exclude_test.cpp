// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Exclusion predicates: each primitive, composition with && || !, descriptions, errors.
#include "spikequant/core/exclude.hpp"

#include <doctest/doctest.h>
#include <limits>
#include <string>

using namespace spikequant;

namespace {
ModuleInfo info(int layer, ModuleKind kind, double ratio) {
  return {ModuleId{layer, kind, -1}, ratio};
}
}  // namespace

TEST_CASE("primitives") {
  auto const nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(exclude_none()(info(0, ModuleKind::kDown, 1e9)));

  auto const r = ratio_above(6.68);
  CHECK(r(info(1, ModuleKind::kDown, 6.69)));
  CHECK_FALSE(r(info(1, ModuleKind::kDown, 6.68)));  // strictly above
  CHECK_FALSE(r(info(1, ModuleKind::kDown, 2.0)));
  CHECK_FALSE(r(info(1, ModuleKind::kDown, nan)));  // unmeasured never matches

  auto const n = name_matches("layers\\.(0|31)\\.mlp");
  CHECK(n(info(0, ModuleKind::kDown, nan)));
  CHECK(n(info(31, ModuleKind::kGate, nan)));
  CHECK_FALSE(n(info(3, ModuleKind::kDown, nan)));
  CHECK_FALSE(n(info(0, ModuleKind::kQ, nan)));  // self_attn, not mlp

  auto const l = in_layers({3, 1, 3});
  CHECK(l(info(1, ModuleKind::kQ, nan)));
  CHECK(l(info(3, ModuleKind::kO, nan)));
  CHECK_FALSE(l(info(2, ModuleKind::kQ, nan)));

  auto const k = kind_is({ModuleKind::kDown, ModuleKind::kUp});
  CHECK(k(info(0, ModuleKind::kDown, nan)));
  CHECK(k(info(0, ModuleKind::kUp, nan)));
  CHECK_FALSE(k(info(0, ModuleKind::kGate, nan)));
}

TEST_CASE("composition follows boolean logic on every input") {
  auto const a = kind_is({ModuleKind::kDown});
  auto const b = in_layers({0, 1});
  auto const both = a && b;
  auto const either = a || b;
  auto const not_a = !a;
  auto const complex = (ratio_above(10.0) || name_matches("lm_head")) && !kind_is({ModuleKind::kQ});
  for (int layer : {0, 1, 2, 7}) {
    for (ModuleKind kind : kAllModuleKinds) {
      for (double ratio : {1.0, 50.0}) {
        auto const m = info(layer, kind, ratio);
        bool const is_down = kind == ModuleKind::kDown;
        bool const early = layer <= 1;
        CHECK(both(m) == (is_down && early));
        CHECK(either(m) == (is_down || early));
        CHECK(not_a(m) == !is_down);
        CHECK(complex(m) == (ratio > 10.0 && kind != ModuleKind::kQ));
      }
    }
  }
}

TEST_CASE("descriptions print how the filter was built") {
  CHECK(exclude_none().description() == "none");
  CHECK(ratio_above(6.68).description() == "ratio_above(6.68)");
  CHECK(name_matches("lm_head").description() == "name_matches(\"lm_head\")");
  CHECK(in_layers({3, 1}).description() == "in_layers(1, 3)");
  CHECK(kind_is({ModuleKind::kDown, ModuleKind::kUp}).description() == "kind_is(down, up)");
  auto const f = (ratio_above(6.68) || kind_is({ModuleKind::kDown})) && !in_layers({0});
  CHECK(f.description() == "((ratio_above(6.68) || kind_is(down)) && !in_layers(0))");
  ModuleFilter const custom([](ModuleInfo const& m) { return m.id.layer == 2; }, "layer_is(2)");
  CHECK(custom.description() == "layer_is(2)");
  CHECK(custom(info(2, ModuleKind::kQ, 0.0)));
  CHECK((!custom).description() == "!layer_is(2)");
}

TEST_CASE("invalid arguments throw spikequant::Error") {
  try {
    (void)name_matches("layers\\.(0");
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
    CHECK(std::string(e.what()).find("layers\\.(0") != std::string::npos);
  }
  CHECK_THROWS_AS((void)name_matches("[a-"), Error);
  try {
    (void)ratio_above(std::numeric_limits<double>::quiet_NaN());
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
  }
}
