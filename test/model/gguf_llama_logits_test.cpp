// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized to float) through io::load_gguf_llama
//! and the reference forward, against transformers loading the same GGUF in float32
//! (scripts/make_gguf_llama_refs.py writes the references beside the model): every logit at
//! four positions of BOS + 63 WikiText-2 tokens within 1e-3, the same top-5 there, and the
//! fp32 perplexity of the first 2044 WikiText-2 tokens (windows of 512) within 1e-4
//! relative. Suite "slow"; skipped with a message when the model or references are absent.
#include "common/models.hpp"
#include "spikequant/io/gguf_llama.hpp"
#include "spikequant/model/model.hpp"
#include "spikequant/model/perplexity.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

using namespace spikequant;

namespace {

std::vector<int> top_k(float const* v, std::size_t n, std::size_t k) {
  std::vector<int> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(
      idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), [&](int a, int b) {
        return v[a] > v[b];
      });
  idx.resize(k);
  return idx;
}

}  // namespace

TEST_CASE(
    "SmolLM2-135M GGUF: fp32 logits and perplexity match transformers" *
    doctest::test_suite("slow")) {
  auto const path = spikequant_test::existing_or_skip(
      spikequant_test::smollm2_gguf(), "scripts/download-models.sh");
  if (path.empty()) {
    return;
  }
  auto const refdir = std::filesystem::path(path.string() + ".ref");
  std::ifstream logits_ref(refdir / "logits.txt");
  std::ifstream ppl_ref(refdir / "ppl.txt");
  std::ifstream tokens_ref(refdir / "tokens_wikitext.txt");
  if (!logits_ref.is_open() || !ppl_ref.is_open() || !tokens_ref.is_open()) {
    MESSAGE(
        "skipped: no references in '", refdir.string(), "' (run scripts/make_gguf_llama_refs.py)");
    return;
  }
  llama::Model const model(io::load_gguf_llama(path));
  auto const vocab = static_cast<std::size_t>(model.config().vocab_size);

  std::string line;
  std::getline(logits_ref, line);
  auto const seq = spikequant_test::parse_ints(line);
  REQUIRE(seq.size() == 64);
  CHECK(seq[0] == model.config().bos_id);
  llama::KVCache cache = model.make_cache(static_cast<int>(seq.size()));
  auto const got = model.forward_all(seq, cache);
  int n_positions = 0;
  float worst = 0.0f;
  while (std::getline(logits_ref, line)) {
    std::istringstream in(line);
    std::size_t pos = 0;
    in >> pos;
    std::vector<float> want;
    for (float x = 0; in >> x;) {
      want.push_back(x);
    }
    CAPTURE(pos);
    REQUIRE(want.size() == vocab);
    REQUIRE(pos < seq.size());
    float const* row = got.data() + pos * vocab;
    float w = 0.0f;
    for (std::size_t j = 0; j < vocab; ++j) {
      w = std::max(w, std::abs(row[j] - want[j]));
    }
    worst = std::max(worst, w);
    CHECK(top_k(row, vocab, 5) == top_k(want.data(), vocab, 5));
    ++n_positions;
  }
  CHECK(n_positions == 4);
  MESSAGE("max |logit - transformers| over ", n_positions, " positions x ", vocab, ": ", worst);
  CHECK(worst <= 1e-3f);

  std::int64_t max_tokens = 0;
  int seq_len = 0;
  double want_ppl = 0.0;
  ppl_ref >> max_tokens >> seq_len >> want_ppl;
  std::getline(tokens_ref, line);
  auto const stream = spikequant_test::parse_ints(line);
  llama::PerplexityOptions po;
  po.seq_len = seq_len;
  po.max_tokens = max_tokens;
  auto const r = llama::perplexity(model, stream, po);
  CHECK(r.tokens == max_tokens);
  double const rel = std::abs(r.ppl - want_ppl) / want_ppl;
  MESSAGE("fp32 ppl ", r.ppl, " (transformers ", want_ppl, "), relative difference ", rel);
  CHECK(rel <= 1e-4);
}
