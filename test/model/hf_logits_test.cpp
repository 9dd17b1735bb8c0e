// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Model::forward on every Hugging Face fixture (test/fixtures/hf/<name>/: tiny random
//! LLaMA / Mistral / Gemma checkpoints) against the logits transformers computed for them
//! (logits.json, fp32, written by scripts/make_hf_fixtures.py): rotate-half RoPE, GQA,
//! untied / tied heads, Gemma's head_dim, GeGLU and embedding scale.
#include "common/data.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
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
  REQUIRE_MESSAGE(dirs.size() >= 4, "expected the llama, mistral, gemma and mistral_swa fixtures");
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
    REQUIRE(got.size() == want.size());
    float worst = 0.0f;
    for (std::size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::abs(got[i] - want[i]));
    }
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
