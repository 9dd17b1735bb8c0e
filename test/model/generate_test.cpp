// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Generation: stories260K greedy from BOS reproduces llama2.c's documented output;
//! sampling is deterministic per seed and respects top-p.
#include "common/stories.hpp"
#include "spikequant/io/tokenizer.hpp"
#include "spikequant/model/generate.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

namespace {
Model const& model() {
  return spikequant_test::require_stories_model();
}
std::string decode(std::vector<int> const& ids, int prev) {
  auto const tok = io::load_tokenizer(spikequant_test::stories_dir() / "tok512.bin");
  std::string s;
  for (int t : ids) {
    s += tok.decode(prev, t);
    prev = t;
  }
  return s;
}
}  // namespace

TEST_CASE("greedy from BOS reproduces llama2.c's stories260K output") {
  Model const& m = model();
  int const bos[1] = {m.config().bos_id};
  SamplingOptions o;
  o.steps = 64;
  o.temperature = 0.0f;
  auto const ids = generate(m, bos, o);
  CHECK(ids.size() == 63);
  std::string const text = decode(ids, m.config().bos_id);
  std::string const want = "Once upon a time, there was a little girl named Lily. She loved to "
                           "play outside in the park.";
  CHECK(text.substr(0, want.size()) == want);

  // The same under W8A8 per-token (a spike-free model keeps its greedy path at the start).
  QuantPlan const plan = QuantPlan::w8a8(ActScheme::kPerToken);
  ForwardOptions f;
  f.plan = &plan;
  auto const q = generate(m, bos, o, {}, f);
  std::string const qtext = decode(q, m.config().bos_id);
  CHECK(qtext.substr(0, 40) == want.substr(0, 40));
}

TEST_CASE("sampling is deterministic per seed and follows the prompt") {
  Model const& m = model();
  std::vector<int> const prompt = {1, 403, 407, 261, 378};  // BOS "Once upon a time"
  SamplingOptions o;
  o.steps = 40;
  o.temperature = 1.0f;
  o.top_p = 0.9f;
  o.seed = 7;
  std::vector<int> seen;
  auto const a = generate(m, prompt, o, [&](int t) { seen.push_back(t); });
  auto const b = generate(m, prompt, o);
  CHECK(a == b);
  CHECK(seen == a);
  CHECK(prompt.size() + a.size() <= 40);
  o.seed = 8;
  auto const c = generate(m, prompt, o);
  CHECK(c != a);
}

TEST_CASE("sample_token: greedy argmax, top-p keeps the dominant token") {
  XorShiftRng rng(1);
  SamplingOptions o;
  std::vector<float> l = {0.1f, 3.0f, -1.0f, 2.9f};
  CHECK(sample_token(l, o, rng) == 1);
  o.temperature = 1.0f;
  o.top_p = 0.5f;
  for (int i = 0; i < 50; ++i) {
    std::vector<float> d = {0.0f, 10.0f, 0.0f, 0.0f};  // p(1) ~ 0.9999 > top_p
    CHECK(sample_token(d, o, rng) == 1);
  }
  // Plain sampling (top_p = 1) visits every token of a uniform distribution.
  o.top_p = 1.0f;
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 400; ++i) {
    std::vector<float> u(4, 0.0f);
    ++counts[static_cast<std::size_t>(sample_token(u, o, rng))];
  }
  for (int c : counts) {
    CHECK(c > 60);
  }
}
