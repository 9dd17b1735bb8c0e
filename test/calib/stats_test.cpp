// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Token-wise scales, torch.median semantics, r(m) and top tokens against hand values.
#include "spikequant/calib/stats.hpp"

#include <doctest/doctest.h>
#include <span>
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

TEST_CASE("TokenScaleObserver: MoE experts record routed rows and skip windows without tokens") {
  TokenScaleObserver obs({.top_k = 4, .keep_sequences = 2});
  ModuleId const e0{1, ModuleKind::kDown, 0};
  ModuleId const e1{1, ModuleKind::kDown, 1};
  // Window 0: 4 tokens; expert 0 gets rows 0 and 2 (scales 8, 2), expert 1 rows 1, 2, 3.
  std::vector<int> ids0 = {1, 20, 21, 22};
  obs.begin_sequence(ids0);
  std::vector<float> x0 = {8, 2};
  std::vector<int> rows0 = {0, 2};
  obs.record(e0, MatrixRef<float const>{x0.data(), 2, 1, 1}, rows0);
  std::vector<float> x1 = {1, -4, 2};
  std::vector<int> rows1 = {1, 2, 3};
  obs.record(e1, MatrixRef<float const>{x1.data(), 3, 1, 1}, rows1);
  obs.end_sequence();
  // Window 1: expert 0 gets no token at all (never recorded); expert 1 gets both rows.
  std::vector<int> ids1 = {1, 23};
  obs.begin_sequence(ids1, 3);
  std::vector<float> y1 = {6, 3};
  std::vector<int> all1 = {0, 1};
  obs.record(e1, MatrixRef<float const>{y1.data(), 2, 1, 1}, all1);
  obs.end_sequence();
  // Window 2: expert 0 is called with zero rows (an empty routed set): also skipped.
  std::vector<int> ids2 = {1, 24, 25};
  obs.begin_sequence(ids2);
  obs.record(e0, MatrixRef<float const>{x0.data(), 0, 1, 1}, std::span<int const>{});
  std::vector<float> z1 = {5, 1, 1};
  std::vector<int> all2 = {0, 1, 2};
  obs.record(e1, MatrixRef<float const>{z1.data(), 3, 1, 1}, all2);
  obs.end_sequence();

  auto const st = obs.stats();
  REQUIRE(st.size() == 2);
  auto const& s0 = st[0];
  auto const& s1 = st[1];
  REQUIRE(s0.id == e0);
  REQUIRE(s1.id == e1);
  // Expert 0: only window 0 counts: median of {8, 2} is 2 (lower middle), ratio 4.
  CHECK(s0.seq_ratio == std::vector<double>{4.0});
  CHECK(s0.ratio == doctest::Approx(4.0));
  CHECK(s0.median == 2.0f);
  CHECK(s0.max == 8.0f);
  CHECK(s0.tokens == 2);
  CHECK(s0.kept_scales.size() == 1);
  REQUIRE(s0.top_tokens.size() == 2);
  CHECK(s0.top_tokens[0].token == 1);
  CHECK(s0.top_tokens[1].token == 21);  // routed row 1 is sequence row 2
  CHECK(s0.top_tokens[1].position == 2);
  // Expert 1: windows 0 ({1, 4, 2}: ratio 2), 1 ({6, 3}: 2), 2 ({5, 1, 1}: 5).
  CHECK(s1.seq_ratio.size() == 3);
  CHECK(s1.ratio == doctest::Approx((2.0 + 2.0 + 5.0) / 3.0));
  CHECK(s1.token_max.at(23).position == 4);  // window 1 starts at position 3
  CHECK(s1.token_max.at(22).scale == 2.0f);
  // Row indices must lie inside the sequence and match the input rows.
  obs.begin_sequence(ids1);
  std::vector<int> bad_rows = {0, 2};
  CHECK_THROWS_AS(obs.record(e0, MatrixRef<float const>{y1.data(), 2, 1, 1}, bad_rows), Error);
  std::vector<int> short_rows = {0};
  CHECK_THROWS_AS(obs.record(e0, MatrixRef<float const>{y1.data(), 2, 1, 1}, short_rows), Error);
  obs.end_sequence();
}

TEST_CASE("most_frequent_tokens: by count, ties by id, exclusions") {
  std::vector<std::vector<int>> seqs = {{1, 5, 5, 6, 7}, {1, 7, 7, 5, 9}};
  int const bos[] = {1};
  auto top = most_frequent_tokens(seqs, 3, bos);
  CHECK(top == std::vector<int>{5, 7, 6});
}
