// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Planted spikes: which rows spike (BOS, first occurrence, prefix counts), and the
//! down-input / down-output pair leaves a linear map unchanged.
#include "spikequant/calib/plant_spikes.hpp"

#include <doctest/doctest.h>
#include <vector>

using namespace spikequant;
using namespace spikequant::calib;

TEST_CASE("PlantedSpikes: BOS and the first occurrence of the token, chunks and prefixes") {
  PlantedSpikes p({.factor = 1000.0f, .token = 9, .bos_id = 1, .layers = {}}, 5);
  CHECK(
      p.planted_modules() ==
      std::set<ModuleId>{{0, ModuleKind::kDown, -1}, {4, ModuleKind::kDown, -1}});
  CHECK(!p.applies_to({2, ModuleKind::kDown, -1}));
  CHECK(!p.applies_to({0, ModuleKind::kUp, -1}));
  std::vector<int> seq = {1, 5, 9, 6, 9};
  CHECK(p.spike_rows(seq, 0) == std::vector<std::int64_t>{0, 2});
  // same chunk again (the last layer): same rows
  CHECK(p.spike_rows(seq, 0) == std::vector<std::int64_t>{0, 2});
  // continuation of that sequence: 9 already seen
  std::vector<int> more = {9, 7};
  CHECK(p.spike_rows(more, 5).empty());
  // token by token: first occurrence at position 3
  std::vector<int> a = {1}, b = {4}, c = {4}, d = {9}, e = {9};
  CHECK(p.spike_rows(a, 0) == std::vector<std::int64_t>{0});
  CHECK(p.spike_rows(b, 1).empty());
  CHECK(p.spike_rows(c, 2).empty());
  CHECK(p.spike_rows(d, 3) == std::vector<std::int64_t>{0});
  CHECK(p.spike_rows(e, 4).empty());
  // a prefix holding the token: no row after it spikes
  std::vector<int> prefix = {1, 20, 9};
  p.set_history(prefix);
  std::vector<int> w = {9, 5, 9};
  CHECK(p.spike_rows(w, 3).empty());
  // a prefix without the token: the first in the window spikes
  std::vector<int> prefix2 = {1, 20, 21};
  p.set_history(prefix2);
  CHECK(p.spike_rows(w, 3) == std::vector<std::int64_t>{0});
}

TEST_CASE("PlantedSpikes: before/after down leave x W^T unchanged and scale the input") {
  PlantedSpikes p({.factor = 1024.0f, .token = 9, .bos_id = 1, .layers = {1}}, 3);
  std::vector<float> x = {1, 2, 3, 4, 5, 6};           // (3 tokens, 2)
  std::vector<float> wt = {0.5f, -1.0f, 2.0f, 0.25f};  // W (2, 2)
  std::vector<int> ids = {1, 9, 9};
  auto xv = MatrixRef<float>{x.data(), 3, 2, 2};
  std::vector<float> ref(6);
  for (int r = 0; r < 3; ++r)
    for (int o = 0; o < 2; ++o)
      ref[static_cast<std::size_t>(r * 2 + o)] =
          x[static_cast<std::size_t>(r * 2)] * wt[static_cast<std::size_t>(o * 2)] +
          x[static_cast<std::size_t>(r * 2 + 1)] * wt[static_cast<std::size_t>(o * 2 + 1)];
  auto rows = p.before_down({1, ModuleKind::kDown, -1}, xv, ids, 0);
  CHECK(rows == std::vector<std::int64_t>{0, 1});
  CHECK(x[0] == 1024.0f);
  CHECK(x[3] == 4096.0f);
  CHECK(x[4] == 5.0f);
  std::vector<float> y(6);
  for (int r = 0; r < 3; ++r)
    for (int o = 0; o < 2; ++o)
      y[static_cast<std::size_t>(r * 2 + o)] =
          x[static_cast<std::size_t>(r * 2)] * wt[static_cast<std::size_t>(o * 2)] +
          x[static_cast<std::size_t>(r * 2 + 1)] * wt[static_cast<std::size_t>(o * 2 + 1)];
  p.after_down(MatrixRef<float>{y.data(), 3, 2, 2}, rows);
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(y[i] == doctest::Approx(ref[i]).epsilon(1e-6));
  }
  // other layers untouched
  CHECK(p.before_down({0, ModuleKind::kDown, -1}, xv, ids, 0).empty());
  CHECK_THROWS_AS(PlantedSpikes({.factor = 0.0f, .token = 9, .bos_id = 1, .layers = {}}, 3), Error);
}
