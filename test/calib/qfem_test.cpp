// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file QFeM selection with sibling expansion and the documented alpha search.
#include "spikequant/calib/qfem.hpp"

#include <cmath>
#include <doctest/doctest.h>
#include <vector>

using namespace spikequant;
using namespace spikequant::calib;

namespace {
std::vector<ModuleInfo> infos_4x4() {
  // 4 layers x 4 representatives; ratios distinct: layer*4 + kind index + 1, with down of
  // layers 0 and 3 spiking.
  std::vector<ModuleInfo> v;
  for (int l = 0; l < 4; ++l) {
    double r = 1.0 + l * 0.1;
    for (ModuleKind k : kRepresentativeKinds) {
      r += 0.01;
      v.push_back({{l, k, -1}, r});
    }
  }
  v[3].ratio = 500.0;  // L0.down
  v[15].ratio = 80.0;  // L3.down
  v[6].ratio = 20.0;   // L1.up
  return v;
}
}  // namespace

TEST_CASE("qfem_select: r(m) > alpha, expanded to siblings, combined with user predicates") {
  auto infos = infos_4x4();
  auto sel = qfem_select(infos, 50.0);
  CHECK(sel == std::set<ModuleId>{{0, ModuleKind::kDown, -1}, {3, ModuleKind::kDown, -1}});
  auto sel2 = qfem_select(infos, 10.0);
  CHECK(sel2.size() == 4);  // two downs + gate and up of layer 1
  CHECK(sel2.contains({1, ModuleKind::kGate, -1}));
  CHECK(sel2.contains({1, ModuleKind::kUp, -1}));
  // user predicate: also layer 2's attention (q -> q, k, v)
  auto sel3 = qfem_select(infos, 50.0, in_layers({2}) && kind_is({ModuleKind::kK}));
  CHECK(sel3.size() == 5);
  CHECK(sel3.contains({2, ModuleKind::kQ, -1}));
  CHECK(sel3.contains({2, ModuleKind::kV, -1}));
  CHECK(qfem_select(infos, 1e9).empty());
  CHECK(all_modules(infos).size() == 4 * 7);
  // experts: siblings stay inside the expert
  auto ex = expand_siblings({{1, ModuleKind::kUp, 3}});
  CHECK(ex == std::set<ModuleId>{{1, ModuleKind::kGate, 3}, {1, ModuleKind::kUp, 3}});
}

TEST_CASE("search_alpha: synthetic monotone curve, O(log n) evaluations, documented point") {
  // 64 groups with distinct ratios 1..64 (layer = index / 4).
  std::vector<ModuleInfo> infos;
  for (int i = 0; i < 64; ++i) {
    infos.push_back({{i / 4, kRepresentativeKinds[static_cast<std::size_t>(i % 4)], -1}, 1.0 + i});
  }
  // ppl(k) = 10 + 100 / (1 + k) where k = number of excluded groups; ref (all) = 10 + 100/65.
  int calls = 0;
  auto eval = [&](std::set<ModuleId> const& ex) {
    ++calls;
    auto const groups = static_cast<double>(group_representatives(ex).size());
    CHECK(ex.size() == expand_siblings(group_representatives(ex)).size());
    return 10.0 + 100.0 / (1.0 + groups);
  };
  AlphaSearchOptions opt;
  opt.rel_tolerance = 0.20;         // target = 1.2 * (10 + 100/65) = 13.846: k = 25
  opt.max_excluded_fraction = 0.5;  // at most 32 groups
  auto res = search_alpha(infos, eval, opt);
  // Independent answer: smallest k with 10 + 100/(1+k) <= 1.2 * (10 + 100/65).
  double const target = 1.2 * (10.0 + 100.0 / 65.0);
  int k_expected = 0;
  while (10.0 + 100.0 / (1.0 + k_expected) > target) {
    ++k_expected;
  }
  CHECK(res.within_tolerance);
  CHECK(res.excluded == k_expected);
  CHECK(res.total == 64);
  // alpha = the k-th largest ratio (64 - k): it excludes exactly the k groups above it
  CHECK(res.alpha == doctest::Approx(64.0 - k_expected));
  CHECK(res.modules.size() == expand_siblings(group_representatives(res.modules)).size());
  CHECK(res.reference_ppl == doctest::Approx(10.0 + 100.0 / 65.0));
  // reference + k=0 + cap + ceil(log2(32)) bisection steps
  CHECK(calls == res.evaluations);
  CHECK(res.evaluations <= 3 + 5);
  CHECK(res.curve.size() == static_cast<std::size_t>(res.evaluations));
  for (std::size_t i = 1; i < res.curve.size(); ++i) {
    CHECK(res.curve[i - 1].excluded <= res.curve[i].excluded);
  }
  // deterministic
  calls = 0;
  auto res2 = search_alpha(infos, eval, opt);
  CHECK(res2.alpha == res.alpha);
  CHECK(res2.curve.size() == res.curve.size());
}

TEST_CASE("search_alpha: already within tolerance at k = 0, and cap reached") {
  std::vector<ModuleInfo> infos;
  for (int i = 0; i < 8; ++i) {
    infos.push_back({{i, ModuleKind::kDown, -1}, 1.0 + i});
  }
  auto flat = [](std::set<ModuleId> const&) { return 5.0; };
  auto r0 = search_alpha(infos, flat);
  CHECK(r0.excluded == 0);
  CHECK(r0.within_tolerance);
  CHECK(r0.evaluations == 2);
  // Never reaches target except with all excluded: cap 25% of 8 = 2 groups.
  auto steep = [](std::set<ModuleId> const& ex) { return ex.size() == 8 ? 1.0 : 2.0; };
  auto r1 = search_alpha(infos, steep);
  CHECK(!r1.within_tolerance);
  CHECK(r1.excluded == 2);
  CHECK(r1.alpha == doctest::Approx(6.0));  // ratios 8 and 7 are above 6
  CHECK(r1.modules == std::set<ModuleId>{{7, ModuleKind::kDown, -1}, {6, ModuleKind::kDown, -1}});
}
