// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Token-wise scales, torch.median semantics, r(m) and top tokens against hand values.
#include "spikequant/calib/stats.hpp"

#include <doctest/doctest.h>
#include <vector>

using namespace spikequant;
using namespace spikequant::calib;

TEST_CASE("lower_median follows torch.median (lower middle for even counts)") {
  std::vector<float> odd = {5.0f, 1.0f, 3.0f};
  CHECK(lower_median(odd) == 3.0f);
  std::vector<float> even = {4.0f, 1.0f, 3.0f, 2.0f};  // sorted 1 2 3 4: lower middle 2
  CHECK(lower_median(even) == 2.0f);
  std::vector<float> two = {7.0f, 9.0f};
  CHECK(lower_median(two) == 7.0f);
  std::vector<float> one = {0.5f};
  CHECK(lower_median(one) == 0.5f);
  CHECK_THROWS_AS(lower_median(std::vector<float>{}), Error);
}

TEST_CASE("token_scales and max_median_ratio on a hand example") {
  // (4 tokens, 3 features)
  std::vector<float> x = {1, -2, 0.5f, -8, 1, 1, 0.25f, 0, -0.5f, 3, 3, -4};
  MatrixRef<float const> xv{x.data(), 4, 3, 3};
  auto s = token_scales(xv);
  REQUIRE(s.size() == 4);
  CHECK(s[0] == 2.0f);
  CHECK(s[1] == 8.0f);
  CHECK(s[2] == 0.5f);
  CHECK(s[3] == 4.0f);
  // sorted 0.5 2 4 8 -> lower median 2, max 8 -> ratio 4 (the upper-median convention gives 2).
  CHECK(max_median_ratio(s) == doctest::Approx(4.0));
}

TEST_CASE("TokenScaleObserver: r(m) is the mean of per-sequence ratios") {
  TokenScaleObserver obs({.top_k = 3, .keep_sequences = 1});
  ModuleId const down{0, ModuleKind::kDown, -1};
  ModuleId const q{0, ModuleKind::kQ, -1};
  // Sequence 0: scales of down 10, 1, 2, 3 -> median 2 (lower), ratio 5. q: all 1 -> ratio 1.
  std::vector<int> ids0 = {1, 7, 8, 9};
  obs.begin_sequence(ids0);
  std::vector<float> d0 = {10, 0, -1, 0, 0, 2, 3, 0};  // (4, 2)
  // record in two chunks to exercise row offsets
  obs.record(down, MatrixRef<float const>{d0.data(), 2, 2, 2}, 0);
  obs.record(down, MatrixRef<float const>{d0.data() + 4, 2, 2, 2}, 2);
  std::vector<float> q0 = {1, 1, 1, 1};
  obs.record(q, MatrixRef<float const>{q0.data(), 4, 1, 1}, 0);
  obs.end_sequence();
  // Sequence 1: down scales 1, 6, 2 -> median 2, ratio 3. Starts after a 3-token prefix.
  std::vector<int> ids1 = {7, 13, 9};
  obs.begin_sequence(ids1, 3);
  std::vector<float> d1 = {1, 6, 2};
  obs.record(down, MatrixRef<float const>{d1.data(), 3, 1, 1}, 0);
  obs.end_sequence();

  auto st = obs.stats();
  REQUIRE(st.size() == 2);
  auto const& sd = st[1].id == down ? st[1] : st[0];
  CHECK(sd.id == down);
  CHECK(sd.ratio == doctest::Approx((5.0 + 3.0) / 2.0));
  CHECK(sd.max == 10.0f);
  CHECK(sd.seq_max == std::vector<float>{10.0f, 6.0f});
  CHECK(sd.seq_median == std::vector<float>{2.0f, 2.0f});
  CHECK(sd.tokens == 7);
  REQUIRE(sd.top_tokens.size() == 3);
  CHECK(sd.top_tokens[0].token == 1);
  CHECK(sd.top_tokens[0].position == 0);
  CHECK(sd.top_tokens[1].token == 13);
  CHECK(sd.top_tokens[1].position == 4);  // row 1 of a sequence starting at position 3
  CHECK(sd.top_tokens[1].sequence == 1);
  CHECK(sd.top_tokens[2].scale == 3.0f);
  CHECK(sd.token_max.at(7).scale == 1.0f);  // seq 0 row 1 and seq 1 row 0 both 1
  CHECK(sd.token_max.at(9).scale == 3.0f);
  CHECK(sd.kept_scales.size() == 1);
  auto const& sq = st[0].id == q ? st[0] : st[1];
  CHECK(sq.ratio == doctest::Approx(1.0));
  CHECK(top_module(st).id == down);
  CHECK_THROWS_AS(obs.record(down, MatrixRef<float const>{d1.data(), 3, 1, 1}, 0), Error);
}

TEST_CASE("most_frequent_tokens: by count, ties by id, exclusions") {
  std::vector<std::vector<int>> seqs = {{1, 5, 5, 6, 7}, {1, 7, 7, 5, 9}};
  int const bos[] = {1};
  auto top = most_frequent_tokens(seqs, 3, bos);
  CHECK(top == std::vector<int>{5, 7, 6});
}
