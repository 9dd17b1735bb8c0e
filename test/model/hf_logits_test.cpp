// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Model::forward on every Hugging Face fixture (test/fixtures/hf/<name>/: tiny random
//! LLaMA / Mistral / Mixtral / Gemma checkpoints) against the logits transformers computed for
//! them (logits.json, fp32, written by scripts/make_hf_fixtures.py): rotate-half RoPE, GQA,
//! untied / tied heads, Gemma's head_dim, GeGLU and embedding scale, sliding windows, and
//! Mixtral's top-k expert routing (which the tests below show really decides the logits).
#include "common/compare.hpp"
#include "common/data.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

namespace {
std::vector<std::filesystem::path> fixtures() {
  std::vector<std::filesystem::path> out;
  auto const root = spikequant_test::source_path("test/fixtures/hf");
  if (std::filesystem::is_directory(root)) {
    for (auto const& e : std::filesystem::directory_iterator(root)) {
      if (std::filesystem::exists(e.path() / "logits.json")) {
        out.push_back(e.path());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("HF fixtures: fp32 logits match transformers within 1e-4") {
  auto const dirs = fixtures();
  REQUIRE_MESSAGE(
      dirs.size() >= 5, "expected the llama, mistral, gemma, mistral_swa and mixtral fixtures");
  for (auto const& dir : dirs) {
    CAPTURE(dir.filename().string());
    nlohmann::json const ref = nlohmann::json::parse(std::ifstream(dir / "logits.json"));
    auto const tokens = ref.at("tokens").get<std::vector<int>>();
    auto const want = ref.at("logits").get<std::vector<float>>();
    auto const shape = ref.at("shape").get<std::vector<std::size_t>>();
    Model const m(io::load_hf(dir));
    REQUIRE(shape.size() == 2);
    REQUIRE(shape[0] == tokens.size());
    REQUIRE(shape[1] == static_cast<std::size_t>(m.config().vocab_size));

    KVCache cache = m.make_cache(static_cast<int>(tokens.size()));
    auto const got = m.forward_all(tokens, cache);
    float const worst = spikequant_test::max_abs_diff(got, want);
    MESSAGE(dir.filename().string(), ": max |logit - transformers| = ", worst);
    CHECK(worst < 1e-4f);

    // Token-by-token decode reaches the same logits.
    KVCache step = m.make_cache(static_cast<int>(tokens.size()));
    float worst_step = 0.0f;
    auto const vocab = static_cast<std::size_t>(m.config().vocab_size);
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      int const one[1] = {tokens[t]};
      auto const row = m.forward_last(one, step);
      for (std::size_t j = 0; j < vocab; ++j) {
        worst_step = std::max(worst_step, std::abs(row[j] - want[t * vocab + j]));
      }
    }
    MESSAGE(dir.filename().string(), ": decode max |logit - transformers| = ", worst_step);
    CHECK(worst_step < 1e-4f);
  }
}

TEST_CASE("HF fixtures: the sliding window matters (mistral_swa, window 4 over 12 tokens)") {
  auto const dir = spikequant_test::source_path("test/fixtures/hf/mistral_swa");
  nlohmann::json const ref = nlohmann::json::parse(std::ifstream(dir / "logits.json"));
  auto const tokens = ref.at("tokens").get<std::vector<int>>();
  auto const want = ref.at("logits").get<std::vector<float>>();
  auto weights = io::load_hf(dir);
  REQUIRE(weights.config.sliding_window == 4);
  // Full attention on the same weights departs from transformers' windowed logits, so the
  // 1e-4 match above really exercises the window (and not a window that does nothing).
  weights.config.sliding_window = 0;
  Model const full(std::move(weights));
  KVCache cache = full.make_cache(static_cast<int>(tokens.size()));
  auto const got = full.forward_all(tokens, cache);
  auto const vocab = static_cast<std::size_t>(full.config().vocab_size);
  float first_rows = 0.0f;  // positions 0..3: the window holds everything
  float later_rows = 0.0f;
  for (std::size_t i = 0; i < got.size(); ++i) {
    float& worst = i / vocab < 4 ? first_rows : later_rows;
    worst = std::max(worst, std::abs(got[i] - want[i]));
  }
  CHECK(first_rows < 1e-4f);
  CHECK(later_rows > 1e-2f);
}

namespace {
struct Reference {
  std::vector<int> tokens;
  std::vector<float> logits;
};

Reference mixtral_reference() {
  auto const dir = spikequant_test::source_path("test/fixtures/hf/mixtral");
  nlohmann::json const ref = nlohmann::json::parse(std::ifstream(dir / "logits.json"));
  return {ref.at("tokens").get<std::vector<int>>(), ref.at("logits").get<std::vector<float>>()};
}

float max_diff(std::vector<float> const& a, std::vector<float> const& b) {
  REQUIRE(a.size() == b.size());
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

std::vector<float> logits_of(Weights w, std::vector<int> const& tokens) {
  Model const m(std::move(w));
  KVCache cache = m.make_cache(static_cast<int>(tokens.size()));
  return m.forward_all(tokens, cache);
}

//! Swaps router rows a and b of a layer (which expert each routing slot points to).
void swap_router_rows(LayerWeights& lw, int dim, int a, int b) {
  std::swap_ranges(
      lw.router.begin() + static_cast<std::ptrdiff_t>(a) * dim,
      lw.router.begin() + static_cast<std::ptrdiff_t>(a + 1) * dim,
      lw.router.begin() + static_cast<std::ptrdiff_t>(b) * dim);
}
}  // namespace

TEST_CASE("HF fixtures: mixtral routing decides the logits") {
  auto const ref = mixtral_reference();
  auto const dir = spikequant_test::source_path("test/fixtures/hf/mixtral");
  auto const base = io::load_hf(dir);
  REQUIRE(base.config.n_experts == 4);
  int const dim = base.config.dim;
  REQUIRE(max_diff(logits_of(base, ref.tokens), ref.logits) < 1e-4f);

  SUBCASE("renumbering experts together with their router rows changes nothing") {
    auto w = base;
    for (auto& lw : w.layers) {
      swap_router_rows(lw, dim, 0, 3);
      std::swap(lw.experts[0], lw.experts[3]);
    }
    CHECK(max_diff(logits_of(std::move(w), ref.tokens), ref.logits) < 1e-4f);
  }
  SUBCASE("routing tokens to other experts (router rows swapped) changes the logits") {
    auto w = base;
    swap_router_rows(w.layers[1], dim, 1, 3);  // layer 1: experts 1 and 3 take most tokens
    CHECK(max_diff(logits_of(std::move(w), ref.tokens), ref.logits) > 1e-2f);
  }
  SUBCASE("top-1 instead of top-2 changes the logits") {
    auto w = base;
    w.config.experts_per_token = 1;
    CHECK(max_diff(logits_of(std::move(w), ref.tokens), ref.logits) > 1e-2f);
  }
  SUBCASE("all experts with equal weights (a dense average) is not what transformers computes") {
    auto w = base;
    w.config.experts_per_token = 4;
    CHECK(max_diff(logits_of(std::move(w), ref.tokens), ref.logits) > 1e-2f);
  }
}

TEST_CASE("HF fixtures: mixtral observers see each token in exactly k experts") {
  auto const ref = mixtral_reference();
  Model const m(io::load_hf(spikequant_test::source_path("test/fixtures/hf/mixtral")));
  auto const n = ref.tokens.size();
  int const k = m.config().experts_per_token;
  // Per layer: how many experts each forward row reached, and the input row each expert saw.
  std::map<int, std::vector<int>> reached;
  std::map<std::pair<int, int>, std::vector<float>> up_input;  // (layer, row) -> first expert's
  int expert_calls = 0;
  ForwardOptions fo;
  fo.observer = [&](ModuleId const& id, MatrixRef<float const> x, ForwardContext const& ctx) {
    if (!id.is_expert()) {
      CHECK(ctx.rows.empty());
      CHECK(x.rows == static_cast<std::int64_t>(n));
      CHECK(id.kind != ModuleKind::kGate);  // no dense FFN in a MoE model
      CHECK(id.kind != ModuleKind::kUp);
      CHECK(id.kind != ModuleKind::kDown);
      return;
    }
    ++expert_calls;
    REQUIRE(static_cast<std::int64_t>(ctx.rows.size()) == x.rows);
    CHECK(std::is_sorted(ctx.rows.begin(), ctx.rows.end()));
    CHECK(ctx.position(0) == ctx.start_pos + ctx.rows[0]);
    CHECK(ctx.token(0) == ref.tokens[static_cast<std::size_t>(ctx.rows[0])]);
    if (id.kind != ModuleKind::kUp) {
      return;
    }
    auto& count = reached[id.layer];
    count.resize(n, 0);
    for (std::int64_t r = 0; r < x.rows; ++r) {
      int const row = ctx.sequence_row(r);
      ++count[static_cast<std::size_t>(row)];
      // Every expert a token reaches multiplies the same FFN-norm row.
      auto [it, first] = up_input.try_emplace({id.layer, row}, x.row(r), x.row(r) + x.cols);
      if (!first) {
        CHECK(std::equal(it->second.begin(), it->second.end(), x.row(r)));
      }
    }
  };
  KVCache cache = m.make_cache(static_cast<int>(n));
  auto const got = m.forward_all(ref.tokens, cache, fo);
  CHECK(max_diff(got, ref.logits) < 1e-4f);  // observing changes nothing
  REQUIRE(reached.size() == 2);
  for (auto const& [layer, count] : reached) {
    CAPTURE(layer);
    CHECK(std::all_of(count.begin(), count.end(), [k](int c) { return c == k; }));
  }
  CHECK(expert_calls == 2 * 4 * 3);  // both layers: every expert got a token in this sequence
}
