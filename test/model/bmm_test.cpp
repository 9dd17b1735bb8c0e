// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file BMM quantization (QuantPlan::bmm) on stories260K: the cached keys and values are
//! dequantized int8 values of one per-tensor scale per forward (checked against a naive
//! reimplementation: quantize the k_proj / v_proj output element by element, then RoPE the
//! keys), decode quantizes each step on its own rows, the QFeP prefix stays float, and the
//! plan rejects static BMM scales.
#include "common/compare.hpp"
#include "common/stories.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/model/model.hpp"
#include "spikequant/model/perplexity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <map>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

namespace {

std::vector<int> const kTokens = {1, 403, 407, 261, 378, 429, 324, 395, 281, 316, 271, 356, 267};

//! Records the q/k/v projection outputs (before BMM quantization: ModuleHook::after runs
//! first), one entry per forward and layer.
struct Capture : ModuleHook {
  struct Out {
    std::vector<float> data;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
  };
  std::vector<std::map<ModuleId, Out>> forwards;  // one map per forward
  void after(ModuleId const& id, MatrixRef<float> y, ForwardContext const& ctx) override {
    if (id.kind != ModuleKind::kK && id.kind != ModuleKind::kV) {
      return;
    }
    if (ctx.layer == 0 && id.kind == ModuleKind::kK) {
      forwards.emplace_back();
    }
    Out& o = forwards.back()[id];
    o.rows = y.rows;
    o.cols = y.cols;
    o.data.assign(y.data, y.data + y.rows * y.cols);
  }
};

//! Naive fake quantization with ONE scale over all of `x` (per_row = false) or one per row,
//! element by element with the library's rounding (core/numeric.hpp).
std::vector<float> naive_fake_quant(Capture::Out const& x, bool per_row) {
  std::vector<float> out(x.data.size());
  auto absmax_of = [&](std::int64_t r0, std::int64_t r1) {
    float m = 0.0f;
    for (std::int64_t i = r0 * x.cols; i < r1 * x.cols; ++i) {
      m = std::max(m, std::abs(x.data[static_cast<std::size_t>(i)]));
    }
    return m;
  };
  float const tensor_scale = scale_from_absmax(absmax_of(0, x.rows));
  for (std::int64_t r = 0; r < x.rows; ++r) {
    float const scale = per_row ? scale_from_absmax(absmax_of(r, r + 1)) : tensor_scale;
    for (std::int64_t c = 0; c < x.cols; ++c) {
      auto const i = static_cast<std::size_t>(r * x.cols + c);
      out[i] = dequantize_value(quantize_value(x.data[i], inverse_scale(scale)), scale);
    }
  }
  return out;
}

//! llama2.c's interleaved RoPE of one row of keys (n_kv_heads * head_dim) at `pos`, written
//! out here (frequencies theta^(-2i/head_dim), angle in float).
void naive_rope(float* row, Config const& c, int pos) {
  REQUIRE(c.rope == RopeStyle::kInterleaved);
  for (int h = 0; h < c.n_kv_heads; ++h) {
    for (int i = 0; i < c.head_dim / 2; ++i) {
      auto const inv_freq = static_cast<float>(
          1.0 / std::pow(static_cast<double>(c.rope_theta), 2.0 * i / c.head_dim));
      float const angle = static_cast<float>(pos) * inv_freq;
      float* p = row + h * c.head_dim + 2 * i;
      float const x0 = p[0];
      float const x1 = p[1];
      p[0] = x0 * std::cos(angle) - x1 * std::sin(angle);
      p[1] = x0 * std::sin(angle) + x1 * std::cos(angle);
    }
  }
}

//! Checks the cache rows [start, start + rows) of layer l against the naive quantization of
//! the captured k / v outputs. Values (no RoPE) must be bit-identical; keys within `key_tol`
//! (the two RoPE implementations may differ by float rounding).
void check_layer(
    Model const& m,
    KVCache const& cache,
    std::map<ModuleId, Capture::Out> const& fwd,
    int l,
    int start,
    bool per_row) {
  Config const& c = m.config();
  auto const& kout = fwd.at({l, ModuleKind::kK, -1});
  auto const& vout = fwd.at({l, ModuleKind::kV, -1});
  auto want_k = naive_fake_quant(kout, per_row);
  auto const want_v = naive_fake_quant(vout, per_row);
  float kmax = 0.0f;
  for (std::int64_t r = 0; r < kout.rows; ++r) {
    naive_rope(want_k.data() + r * kout.cols, c, start + static_cast<int>(r));
  }
  for (float v : want_k) {
    kmax = std::max(kmax, std::abs(v));
  }
  float const key_tol = 1e-6f * std::max(kmax, 1.0f);
  for (std::int64_t r = 0; r < kout.rows; ++r) {
    float const* ck = cache.key(l, start + static_cast<int>(r));
    float const* cv = cache.value(l, start + static_cast<int>(r));
    for (std::int64_t j = 0; j < kout.cols; ++j) {
      auto const i = static_cast<std::size_t>(r * kout.cols + j);
      REQUIRE(cv[j] == want_v[i]);
      REQUIRE(std::abs(ck[j] - want_k[i]) <= key_tol);
    }
  }
}

//! The value rows [start, start + rows) of layer l are integers times one scale (absmax / 127
//! of the rows), with the largest |code| exactly 127.
void check_one_scale(KVCache const& cache, int kv_dim, int l, int start, int rows) {
  float absmax = 0.0f;
  for (int r = start; r < start + rows; ++r) {
    for (int j = 0; j < kv_dim; ++j) {
      absmax = std::max(absmax, std::abs(cache.value(l, r)[j]));
    }
  }
  float const scale = absmax / 127.0f;
  REQUIRE(scale > 0.0f);
  for (int r = start; r < start + rows; ++r) {
    for (int j = 0; j < kv_dim; ++j) {
      float const code = cache.value(l, r)[j] / scale;
      REQUIRE(std::abs(code - std::nearbyint(code)) < 1e-3f);
      REQUIRE(std::abs(code) <= 127.5f);
    }
  }
}

}  // namespace

TEST_CASE("QuantPlan::bmm: off by default, dynamic only, part of equality and describe") {
  QuantPlan p = QuantPlan::w8a8(ActScheme::kPerTensor);
  CHECK_FALSE(p.bmm().has_value());
  QuantPlan const before = p;
  p.set_bmm(ActScheme::kPerTensor);
  CHECK(p.bmm() == ActScheme::kPerTensor);
  CHECK_FALSE(p == before);
  CHECK(p.describe().find("bmm: per-tensor") != std::string::npos);
  CHECK(before.describe().find("bmm") == std::string::npos);
  try {
    p.set_bmm(ActScheme::kStatic);
    FAIL("static BMM accepted");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
    CHECK(std::string(e.what()).find("static BMM") != std::string::npos);
  }
  CHECK(p.bmm() == ActScheme::kPerTensor);  // unchanged by the rejected call
  p.set_bmm(std::nullopt);
  CHECK(p == before);
  CHECK(parse_bmm("off") == std::nullopt);
  CHECK(parse_bmm("per-tensor") == ActScheme::kPerTensor);
  CHECK(parse_bmm("per-token") == ActScheme::kPerToken);
  CHECK_THROWS_AS((void)parse_bmm("static"), Error);
  CHECK(bmm_name(ActScheme::kPerToken) == "per-token");
  CHECK(bmm_name(std::nullopt) == "off");
}

TEST_CASE("BMM per-tensor: cached keys/values are dequantized int8 of one scale per forward") {
  Model const& m = spikequant_test::require_stories_model();
  Config const& c = m.config();
  int const kv_dim = c.n_kv_heads * c.head_dim;
  auto const n = static_cast<int>(kTokens.size());
  for (bool const w8a8 : {false, true}) {  // independent of how k/v themselves run
    CAPTURE(w8a8);
    QuantPlan plan = w8a8 ? QuantPlan::w8a8(ActScheme::kPerToken) : QuantPlan{};
    plan.set_bmm(ActScheme::kPerTensor);
    Capture cap;
    ForwardOptions o;
    o.plan = &plan;
    o.hook = &cap;
    KVCache cache = m.make_cache(n);
    auto const logits = m.forward_all(kTokens, cache, o);
    REQUIRE(cap.forwards.size() == 1);
    for (int l = 0; l < c.n_layers; ++l) {
      CAPTURE(l);
      check_layer(m, cache, cap.forwards[0], l, 0, false);
      check_one_scale(cache, kv_dim, l, 0, n);
    }
    // And it does something: the same plan without BMM gives other logits.
    QuantPlan off = plan;
    off.set_bmm(std::nullopt);
    o.plan = &off;
    o.hook = nullptr;
    KVCache plain = m.make_cache(n);
    auto const ref = m.forward_all(kTokens, plain, o);
    float diff = 0.0f;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      diff = std::max(diff, std::abs(ref[i] - logits[i]));
    }
    MESSAGE("w8a8 ", w8a8, ": max |bmm - no bmm| logit = ", diff);
    CHECK(diff > 1e-3f);
  }
}

TEST_CASE("BMM per-tensor in decode: each step quantizes its own row and prefill differs") {
  Model const& m = spikequant_test::require_stories_model();
  Config const& c = m.config();
  int const kv_dim = c.n_kv_heads * c.head_dim;
  auto const n = static_cast<int>(kTokens.size());
  QuantPlan plan;
  plan.set_bmm(ActScheme::kPerTensor);
  Capture cap;
  ForwardOptions o;
  o.plan = &plan;
  o.hook = &cap;
  KVCache step = m.make_cache(n);
  std::vector<float> decode_logits;
  for (int t = 0; t < n; ++t) {
    int const tok[1] = {kTokens[static_cast<std::size_t>(t)]};
    auto const l = m.forward_last(tok, step, o);
    decode_logits.insert(decode_logits.end(), l.begin(), l.end());
    REQUIRE(cap.forwards.size() == static_cast<std::size_t>(t + 1));
    // The step's row was quantized alone: per-tensor over one row is per-token.
    for (int layer = 0; layer < c.n_layers; ++layer) {
      CAPTURE(t);
      CAPTURE(layer);
      check_layer(m, step, cap.forwards.back(), layer, t, true);
      check_one_scale(step, kv_dim, layer, t, 1);
    }
  }
  // Earlier rows are not requantized by later steps (checked above as they were written, and
  // the per-token BMM decode writes the same cache bit for bit).
  QuantPlan tok_plan;
  tok_plan.set_bmm(ActScheme::kPerToken);
  o.plan = &tok_plan;
  o.hook = nullptr;
  KVCache step_tok = m.make_cache(n);
  for (int t = 0; t < n; ++t) {
    int const tok[1] = {kTokens[static_cast<std::size_t>(t)]};
    (void)m.forward_last(tok, step_tok, o);
  }
  // Prefill with per-tensor BMM spans all rows with one scale per layer: other cached values
  // than decode's (one scale per row), so other logits, but the same model within
  // quantization error.
  o.plan = &plan;
  KVCache batch = m.make_cache(n);
  auto const prefill_logits = m.forward_all(kTokens, batch, o);
  int rows_differ = 0;
  for (int layer = 0; layer < c.n_layers; ++layer) {
    for (int t = 0; t < n; ++t) {
      REQUIRE(std::equal(
          step.value(layer, t), step.value(layer, t) + kv_dim, step_tok.value(layer, t)));
      REQUIRE(std::equal(step.key(layer, t), step.key(layer, t) + kv_dim, step_tok.key(layer, t)));
      rows_differ +=
          std::equal(step.value(layer, t), step.value(layer, t) + kv_dim, batch.value(layer, t))
              ? 0
              : 1;
    }
  }
  CHECK(rows_differ > n * c.n_layers / 2);
  // Both are the same model within quantization error: compare the gap to the float model.
  KVCache fcache = m.make_cache(n);
  auto const float_logits = m.forward_all(kTokens, fcache);
  using spikequant_test::rel_l2;
  double const pd = rel_l2(prefill_logits, decode_logits);
  double const pf = rel_l2(prefill_logits, float_logits);
  double const df = rel_l2(decode_logits, float_logits);
  MESSAGE(
      "rel L2 with BMM per-tensor: prefill vs decode ",
      pd,
      ", prefill vs fp32 ",
      pf,
      ", decode vs fp32 ",
      df);
  CHECK(pd > 1e-6);
  CHECK(pd < 2.0 * (pf + df));  // measured 0.043 against 0.038 + 0.032
}

TEST_CASE("BMM: a QFeP prefix's cache stays float and the rows after it are quantized") {
  Model const& m = spikequant_test::require_stories_model();
  int const kv_dim = m.config().n_kv_heads * m.config().head_dim;
  std::vector<int> const ids = {1, 403, 407};
  auto const n_pre = static_cast<int>(ids.size());
  QuantPlan plan = QuantPlan::w8a8(ActScheme::kPerTensor);
  plan.set_bmm(ActScheme::kPerTensor);
  // make_prefix runs a float plan (ForwardOptions::plan null), BMM included.
  Prefix const prefix = make_prefix(m, ids);
  KVCache float_run = m.make_cache(n_pre);
  (void)m.forward_last(ids, float_run);
  ForwardOptions o;
  o.plan = &plan;
  KVCache bmm_run = m.make_cache(n_pre);
  (void)m.forward_last(ids, bmm_run, o);
  int differ = 0;
  for (int l = 0; l < m.config().n_layers; ++l) {
    for (int t = 0; t < n_pre; ++t) {
      CHECK(std::equal(
          prefix.cache.value(l, t), prefix.cache.value(l, t) + kv_dim, float_run.value(l, t)));
      differ +=
          std::equal(
              prefix.cache.value(l, t), prefix.cache.value(l, t) + kv_dim, bmm_run.value(l, t))
              ? 0
              : 1;
    }
  }
  CHECK(differ > 0);  // a BMM prefix would have been another cache
  // The evaluation continues from the float cache with BMM on for its own rows only.
  KVCache cache = prefix.cache.fork(n_pre + 2);
  int const next[2] = {261, 378};
  (void)m.forward_last(next, cache, o);
  for (int l = 0; l < m.config().n_layers; ++l) {
    for (int t = 0; t < n_pre; ++t) {
      CHECK(std::equal(cache.value(l, t), cache.value(l, t) + kv_dim, prefix.cache.value(l, t)));
    }
    check_one_scale(cache, kv_dim, l, n_pre, 2);
  }
}
