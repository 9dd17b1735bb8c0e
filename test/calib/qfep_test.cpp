// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file QFeP prefix search on a synthetic scorer whose spike rules are known.
#include "spikequant/calib/qfep.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <vector>

using namespace spikequant;
using namespace spikequant::calib;

TEST_CASE("search_prefix finds the token that spikes only on its first occurrence") {
  // Synthetic model: token 13 spikes (scale 100) on its first occurrence only when the
  // preceding token is 20; token 11 spikes on every occurrence (bad prefix); others 1.
  auto scorer = [](std::span<int const> ids) {
    std::vector<float> s(ids.size(), 1.0f);
    bool seen13 = false;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == 11) {
        s[i] = 50.0f;
      }
      if (ids[i] == 13 && !seen13) {
        s[i] = i > 0 && ids[i - 1] == 20 ? 100.0f : 10.0f;
        seen13 = true;
      }
    }
    s[0] = 1000.0f;  // BOS
    return s;
  };
  ModuleStats st;
  st.id = {4, ModuleKind::kDown, -1};
  st.ratio = 30.0;
  st.token_max[1] = {1, 0, 0, 1000.0f};  // BOS: excluded
  st.token_max[11] = {11, 5, 0, 50.0f};
  st.token_max[13] = {13, 9, 0, 100.0f};
  st.token_max[14] = {14, 9, 0, 2.0f};
  st.token_max[15] = {15, 9, 0, 1.5f};
  auto cands = candidate_tokens(st, 3, 1);
  CHECK(cands == std::vector<int>{13, 11, 14});

  std::vector<std::vector<int>> calib = {{1, 20, 13, 30, 30, 30, 20}, {1, 30, 21, 21}};
  std::vector<ModuleStats> stats = {st};
  QfepOptions opt;
  opt.n_contexts = 3;
  int calls = 0;
  auto counted = [&](std::span<int const> ids) {
    ++calls;
    CHECK(ids.size() == 5);
    CHECK(ids[0] == 1);
    CHECK(ids[1] == ids[3]);
    CHECK(ids[2] == ids[4]);
    return scorer(ids);
  };
  auto res = search_prefix(stats, calib, counted, opt);
  CHECK(res.module == st.id);
  CHECK(res.contexts == std::vector<int>{30, 20, 21});
  CHECK(calls == 9);
  CHECK(res.best.candidate == 13);
  CHECK(res.best.context == 20);
  CHECK(res.best.score == doctest::Approx(100.0));
  CHECK(res.prefix == std::vector<int>{1, 20, 13});
  CHECK(res.scores.size() == 9);
}
