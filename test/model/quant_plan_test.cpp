// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file QuantPlan: defaults, overrides, QFeM exclusion with sibling expansion, static scales.
#include "spikequant/model/quant_plan.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <limits>
#include <map>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

TEST_CASE("QuantPlan: default, uniform, overrides") {
  QuantPlan const f;
  CHECK(f.get({3, ModuleKind::kDown, -1}).mode == LinearMode::kFloat);
  QuantPlan p = QuantPlan::w8a8(ActScheme::kPerTensor);
  ModuleId const down1{1, ModuleKind::kDown, -1};
  CHECK(p.get(down1).mode == LinearMode::kW8A8);
  CHECK(p.get(down1).act == ActScheme::kPerTensor);
  p.set_mode(down1, LinearMode::kW8A16);
  CHECK(p[down1].mode == LinearMode::kW8A16);
  CHECK(p[{0, ModuleKind::kDown, -1}].mode == LinearMode::kW8A8);
  CHECK(p.describe().find("override L1.down: w8a16") != std::string::npos);
}

TEST_CASE("QuantPlan::exclude expands sibling groups and reports what changed") {
  std::vector<ModuleInfo> infos;
  for (int l = 0; l < 2; ++l) {
    for (ModuleKind k : kRepresentativeKinds) {
      infos.push_back({{l, k, -1}, std::numeric_limits<double>::quiet_NaN()});
    }
  }
  infos[0].ratio = 10.0;  // L0.q
  infos[2].ratio = 3.0;   // L0.up
  infos[7].ratio = 50.0;  // L1.down
  QuantPlan p = QuantPlan::w8a8(ActScheme::kPerToken);
  auto const changed = p.exclude(ratio_above(5.0), infos);
  std::vector<ModuleId> const want = {
      {0, ModuleKind::kQ, -1},
      {0, ModuleKind::kK, -1},
      {0, ModuleKind::kV, -1},
      {1, ModuleKind::kDown, -1}};
  CHECK(changed == want);
  CHECK(p[{0, ModuleKind::kK, -1}].mode == LinearMode::kW8A16);
  CHECK(p[{0, ModuleKind::kGate, -1}].mode == LinearMode::kW8A8);
  CHECK(p[{1, ModuleKind::kDown, -1}].mode == LinearMode::kW8A16);

  // up's ratio triggers gate too.
  QuantPlan p2 = QuantPlan::w8a8(ActScheme::kPerToken);
  auto const changed2 = p2.exclude(ratio_above(2.0) && kind_is({ModuleKind::kUp}), infos);
  CHECK(changed2.size() == 2);
  CHECK(p2[{0, ModuleKind::kGate, -1}].mode == LinearMode::kW8A16);
}

TEST_CASE("QuantPlan static scales survive exclusion and reject bad values") {
  QuantPlan p = QuantPlan::w8a8(ActScheme::kStatic);
  ModuleId const id{0, ModuleKind::kO, -1};
  CHECK(p[id].static_scale == 0.0f);
  p.set_static_scale(id, 0.25f);
  CHECK(p[id].static_scale == 0.25f);
  p.set_mode(id, LinearMode::kW8A16);
  p.set_mode(id, LinearMode::kW8A8);
  CHECK(p[id].static_scale == 0.25f);
  CHECK(p[id].act == ActScheme::kStatic);
  CHECK_THROWS_AS(p.set_static_scale(id, 0.0f), Error);
  CHECK_THROWS_AS(p.set_static_scale(id, std::nanf("")), Error);
  CHECK_THROWS_AS(p.set_static_scale(id, -1.0f), Error);
}

TEST_CASE("fill_unrouted_expert_scales: unmeasured experts take their layer's widest scale") {
  std::vector<ModuleId> modules;
  for (int e = 0; e < 3; ++e) {
    for (ModuleKind k : {ModuleKind::kGate, ModuleKind::kUp, ModuleKind::kDown}) {
      modules.push_back({0, k, e});
      modules.push_back({1, k, e});
    }
  }
  modules.push_back({0, ModuleKind::kQ, -1});
  std::map<ModuleId, float> scales = {
      {{0, ModuleKind::kDown, 0}, 0.5f},
      {{0, ModuleKind::kDown, 2}, 2.0f},
      {{0, ModuleKind::kUp, 0}, 0.25f},
      {{0, ModuleKind::kGate, 0}, 0.25f},
      {{1, ModuleKind::kDown, 1}, 3.0f},
  };
  auto const filled = fill_unrouted_expert_scales(scales, modules);
  CHECK(scales.at({0, ModuleKind::kDown, 1}) == 2.0f);  // widest of layer 0's downs
  CHECK(scales.at({0, ModuleKind::kUp, 1}) == 0.25f);
  CHECK(scales.at({0, ModuleKind::kGate, 2}) == 0.25f);
  CHECK(scales.at({1, ModuleKind::kDown, 0}) == 3.0f);    // layers do not mix
  CHECK(scales.at({0, ModuleKind::kDown, 0}) == 0.5f);    // measured ones are kept
  CHECK_FALSE(scales.contains({1, ModuleKind::kUp, 0}));  // no expert of that kind measured
  CHECK_FALSE(scales.contains({0, ModuleKind::kQ, -1}));  // dense modules are left alone
  CHECK(filled.size() == 1u + 2u + 2u + 2u);
  CHECK(std::find(filled.begin(), filled.end(), ModuleId{0, ModuleKind::kDown, 1}) != filled.end());
}
