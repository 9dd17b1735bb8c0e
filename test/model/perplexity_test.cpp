// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file perplexity.hpp against a naive re-implementation of the protocol written here from
//! its description (windows = BOS + L-1 tokens, every chunk token scored, NLL in double), in
//! fp32 and in every W8A8 scheme, on a slice of TinyStories; plus static calibration, prefix
//! windows and bad input.
#include "common/stories.hpp"
#include "spikequant/io/text_file.hpp"
#include "spikequant/io/tokenizer.hpp"
#include "spikequant/model/perplexity.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <map>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

namespace {

Model const& model() {
  return spikequant_test::require_stories_model();
}

// 600 tokens of TinyStories validation text, tokenized without BOS.
std::vector<int> const& stream() {
  static std::vector<int> const tokens = [] {
    auto const data = spikequant_test::data_dir();
    auto const tok = io::load_tokenizer(data / "models" / "stories260K" / "tok512.bin");
    std::string const text = io::read_text_file(data / "text" / "tinystories_val.txt");
    auto ids = tok.encode(text.substr(0, 4000), false, false);
    REQUIRE(ids.size() >= 600);
    ids.resize(600);
    return ids;
  }();
  return tokens;
}

double log_softmax_at(float const* logits, int n, int target) {
  double mx = logits[0];
  for (int i = 1; i < n; ++i) {
    mx = std::max(mx, static_cast<double>(logits[i]));
  }
  double s = 0.0;
  for (int i = 0; i < n; ++i) {
    s += std::exp(static_cast<double>(logits[i]) - mx);
  }
  return static_cast<double>(logits[target]) - mx - std::log(s);
}

// The protocol, naively: walk the stream in steps of L-1; each window starts a fresh cache
// with BOS. `one_token_at_a_time` feeds the window token by token (only valid for schemes
// whose result does not depend on the other rows: fp32, per-token, static); otherwise the
// whole window is one batched forward and the logits rows are read back.
struct Naive {
  double nll = 0.0;
  long tokens = 0;
  long windows = 0;
};
Naive naive_ppl(
    Model const& m,
    std::vector<int> const& s,
    int L,
    QuantPlan const& plan,
    bool one_token_at_a_time) {
  int const vocab = m.config().vocab_size;
  ForwardOptions o;
  o.plan = &plan;
  Naive r;
  double total = 0.0;
  for (std::size_t begin = 0; begin < s.size(); begin += static_cast<std::size_t>(L - 1)) {
    std::size_t const end = std::min(s.size(), begin + static_cast<std::size_t>(L - 1));
    std::vector<int> window = {1};
    for (std::size_t i = begin; i < end; ++i) {
      window.push_back(s[i]);
    }
    KVCache cache = m.make_cache(L);
    if (one_token_at_a_time) {
      for (std::size_t p = 0; p + 1 < window.size(); ++p) {
        int const tok[1] = {window[p]};
        auto const logits = m.forward_last(tok, cache, o);
        total -= log_softmax_at(logits.data(), vocab, window[p + 1]);
        ++r.tokens;
      }
    } else {
      auto const logits = m.forward_all(window, cache, o);
      for (std::size_t p = 0; p + 1 < window.size(); ++p) {
        total -= log_softmax_at(
            logits.data() + p * static_cast<std::size_t>(vocab), vocab, window[p + 1]);
        ++r.tokens;
      }
    }
    ++r.windows;
  }
  r.nll = total / static_cast<double>(r.tokens);
  return r;
}

// Static scales the naive way: absmax over all inputs of each module, / 127.
std::map<ModuleId, float>
naive_static_scales(Model const& m, std::vector<std::vector<int>> const& windows) {
  std::map<ModuleId, float> amax;
  ForwardOptions o;
  o.observer = [&](ModuleId const& id, MatrixRef<float const> x, ForwardContext const&) {
    for (std::int64_t r = 0; r < x.rows; ++r) {
      for (std::int64_t c = 0; c < x.cols; ++c) {
        amax[id] = std::max(amax[id], std::abs(x(r, c)));
      }
    }
  };
  for (auto const& w : windows) {
    KVCache cache = m.make_cache(static_cast<int>(w.size()));
    (void)m.forward_last(w, cache, o);
  }
  for (auto& [id, a] : amax) {
    a = a / 127.0f;
  }
  return amax;
}

}  // namespace

TEST_CASE("chunks and windows follow the protocol") {
  std::vector<int> s(10);
  for (int i = 0; i < 10; ++i) {
    s[static_cast<std::size_t>(i)] = 100 + i;
  }
  auto const chunks = make_chunks(s, 4);
  REQUIRE(chunks.size() == 4);  // 3 + 3 + 3 + 1
  CHECK(chunks[3].size() == 1);
  CHECK(chunks[3][0] == 109);
  auto const trunc = make_chunks(s, 4, 7);
  REQUIRE(trunc.size() == 3);  // 3 + 3 + 1
  CHECK(trunc[2].size() == 1);
  auto const windows = make_windows(s, 4, 1, 2);
  REQUIRE(windows.size() == 2);
  CHECK(windows[1] == std::vector<int>{1, 103, 104, 105});
  CHECK_THROWS_AS(make_chunks(s, 1), Error);
  CHECK_THROWS_AS(make_chunks(std::span<int const>{}, 8), Error);
}

TEST_CASE("perplexity agrees with a naive protocol implementation: fp32 and W8A8 schemes") {
  Model const& m = model();
  auto const& s = stream();
  int const L = 64;
  auto const windows = make_windows(s, L, m.config().bos_id, 4);
  auto const scales = calibrate_static_scales(m, windows);

  // calibrate_static_scales == the naive absmax / 127 over the same windows, every module.
  auto const naive_scales = naive_static_scales(m, windows);
  REQUIRE(scales.size() == naive_scales.size());
  CHECK(scales.size() == static_cast<std::size_t>(m.config().n_layers * 7));
  for (auto const& [id, sc] : scales) {
    CHECK(sc == naive_scales.at(id));
  }

  struct Case {
    char const* name;
    QuantPlan plan;
    bool token_by_token_ok;
  };
  QuantPlan stat = QuantPlan::w8a8(ActScheme::kStatic);
  stat.set_static_scales(scales);
  std::vector<Case> const cases = {
      {"fp32", QuantPlan{}, true},
      {"w8a8-per-token", QuantPlan::w8a8(ActScheme::kPerToken), true},
      {"w8a8-per-tensor", QuantPlan::w8a8(ActScheme::kPerTensor), false},
      {"w8a8-static", stat, true},
  };
  double fp32_ppl = 0.0;
  for (Case const& c : cases) {
    CAPTURE(c.name);
    PerplexityOptions o;
    o.seq_len = L;
    o.forward.plan = &c.plan;
    std::size_t progress_calls = 0;
    o.on_window = [&](std::size_t done, std::size_t total) {
      ++progress_calls;
      CHECK(done <= total);
    };
    auto const got = perplexity(m, s, o);
    CHECK(got.tokens == 600);
    CHECK(got.windows == 10);  // ceil(600 / 63)
    CHECK(progress_calls == 10);
    CHECK(got.ppl == doctest::Approx(std::exp(got.nll)).epsilon(1e-12));

    auto const batched = naive_ppl(m, s, L, c.plan, false);
    CHECK(batched.tokens == got.tokens);
    CHECK(batched.windows == got.windows);
    CHECK(got.nll == doctest::Approx(batched.nll).epsilon(1e-9));
    if (c.token_by_token_ok) {
      auto const stepped = naive_ppl(m, s, L, c.plan, true);
      CHECK(got.nll == doctest::Approx(stepped.nll).epsilon(1e-4));
    }
    if (std::string(c.name) == "fp32") {
      fp32_ppl = got.ppl;
      CHECK(got.ppl > 2.0);
      CHECK(got.ppl < 8.0);
    } else {
      // W8A8 costs a little, never a lot, on this spike-free model.
      CHECK(got.ppl > fp32_ppl * 0.97);
      CHECK(got.ppl < fp32_ppl * 1.5);
    }
  }
}

TEST_CASE("max_tokens truncates the stream first") {
  Model const& m = model();
  PerplexityOptions o;
  o.seq_len = 64;
  o.max_tokens = 100;
  auto const r = perplexity(m, stream(), o);
  CHECK(r.tokens == 100);
  CHECK(r.windows == 2);
  std::vector<int> const first(stream().begin(), stream().begin() + 100);
  o.max_tokens = 0;
  auto const r2 = perplexity(m, first, o);
  CHECK(r2.nll == r.nll);
}

TEST_CASE("a BOS-only prefix reproduces the plain protocol, a longer prefix shifts positions") {
  Model const& m = model();
  std::vector<int> const s(stream().begin(), stream().begin() + 200);
  PerplexityOptions o;
  o.seq_len = 64;
  auto const plain = perplexity(m, s, o);
  int const bos[1] = {m.config().bos_id};
  Prefix const p = make_prefix(m, bos);
  CHECK(p.cache.length() == 1);
  o.prefix = &p;
  auto const with_bos_prefix = perplexity(m, s, o);
  CHECK(with_bos_prefix.tokens == plain.tokens);
  CHECK(with_bos_prefix.nll == doctest::Approx(plain.nll).epsilon(1e-6));

  // Prefix {BOS, t}: window i must equal a plain forward of BOS, t, chunk, scoring the chunk.
  std::vector<int> const ids = {m.config().bos_id, s[0]};
  Prefix const p2 = make_prefix(m, ids);
  o.prefix = &p2;
  o.max_tokens = 63;
  auto const got = perplexity(m, s, o);
  std::vector<int> window = ids;
  window.insert(window.end(), s.begin(), s.begin() + 63);
  KVCache cache = m.make_cache(static_cast<int>(window.size()));
  auto const logits = m.forward_all(window, cache);
  int const vocab = m.config().vocab_size;
  double nll = 0.0;
  for (std::size_t i = 1; i + 1 < window.size(); ++i) {
    nll -=
        log_softmax_at(logits.data() + i * static_cast<std::size_t>(vocab), vocab, window[i + 1]);
  }
  CHECK(got.tokens == 63);
  CHECK(got.nll == doctest::Approx(nll / 63.0).epsilon(1e-6));
}

TEST_CASE("perplexity rejects bad input before running") {
  Model const& m = model();
  std::vector<int> bad = {5, 6, 700, 8};
  try {
    (void)perplexity(m, bad);
    FAIL("no error");
  } catch (Error const& e) {
    CHECK(std::string(e.what()).find("700") != std::string::npos);
  }
  PerplexityOptions o;
  o.seq_len = 1;
  std::vector<int> ok = {5, 6};
  CHECK_THROWS_AS((void)perplexity(m, ok, o), Error);
  CHECK_THROWS_AS((void)perplexity(m, std::vector<int>{}), Error);
}
