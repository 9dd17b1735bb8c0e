// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama::Model forward on stories260K: prefill == decode, plans, observers, hooks, KV
//! cache forks, early stop, bad input; and a llama2.c-style single-token reference forward
//! written independently in this file.
#include "common/compare.hpp"
#include "common/stories.hpp"
#include "spikequant/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <map>
#include <numeric>
#include <set>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

namespace {

using spikequant_test::max_abs_diff;
using spikequant_test::rel_l2;

Model const& model() {
  return spikequant_test::require_stories_model();
}

// A short real token sequence (BOS + ids inside the 512-token vocabulary).
std::vector<int> const kTokens = {1, 403, 407, 261, 378, 429, 324, 395, 281, 316, 271, 356, 267};

// max |a - b| / max |b|: the error relative to the logit range. Different batch sizes sum in
// different orders inside the GEMM (GEMV for one row), which moves each hidden state by ~1e-6
// relative per layer; after the final norm and lm_head that is up to ~4e-5 absolute on
// logits of magnitude ~15 (measured), i.e. ~3e-6 of the range.
float max_rel_diff(std::vector<float> const& a, std::vector<float> const& b) {
  REQUIRE(a.size() == b.size());
  float m = 0.0f;
  float range = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, std::abs(a[i] - b[i]));
    range = std::max(range, std::abs(b[i]));
  }
  return m / std::max(range, 1.0f);
}

// llama2.c run.c's forward() transcribed for one token (interleaved RoPE, MHA/GQA, SwiGLU),
// using only the float Weights: an independent reference for Model::forward.
struct RefState {
  std::vector<std::vector<float>> k, v;  // per layer (seq, kv_dim)
};

std::vector<float> ref_forward(Weights const& w, RefState& s, int token, int pos) {
  Config const& p = w.config;
  int const dim = p.dim, hd = p.head_dim, kv_dim = p.n_kv_heads * hd, hidden = p.hidden_dim;
  int const kv_mul = p.n_heads / p.n_kv_heads;
  auto matmul =
      [](std::vector<float>& out, std::vector<float> const& x, float const* m, int n, int d) {
        out.assign(static_cast<std::size_t>(d), 0.0f);
        for (int i = 0; i < d; ++i) {
          float val = 0.0f;
          for (int j = 0; j < n; ++j) {
            val += m[i * n + j] * x[static_cast<std::size_t>(j)];
          }
          out[static_cast<std::size_t>(i)] = val;
        }
      };
  auto rmsnorm = [&](std::vector<float> const& x, std::vector<float> const& g) {
    float ss = 0.0f;
    for (float v : x) {
      ss += v * v;
    }
    ss = 1.0f / std::sqrt(ss / static_cast<float>(x.size()) + p.norm_eps);
    std::vector<float> o(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) {
      o[j] = g[j] * (ss * x[j]);
    }
    return o;
  };
  if (s.k.empty()) {
    s.k.assign(
        static_cast<std::size_t>(p.n_layers),
        std::vector<float>(static_cast<std::size_t>(p.max_seq_len * kv_dim)));
    s.v = s.k;
  }
  std::vector<float> x(w.embedding.begin() + token * dim, w.embedding.begin() + (token + 1) * dim);
  std::vector<float> q, k, v, xb2, hb, hb2;
  for (int l = 0; l < p.n_layers; ++l) {
    LayerWeights const& L = w.layers[static_cast<std::size_t>(l)];
    auto xb = rmsnorm(x, L.attn_norm);
    matmul(q, xb, L.wq.data(), dim, p.n_heads * hd);
    matmul(k, xb, L.wk.data(), dim, kv_dim);
    matmul(v, xb, L.wv.data(), dim, kv_dim);
    for (int i = 0; i < p.n_heads * hd; i += 2) {
      int const head_dim = i % hd;
      float const freq =
          1.0f / std::pow(10000.0f, static_cast<float>(head_dim) / static_cast<float>(hd));
      float const val = static_cast<float>(pos) * freq;
      float const fcr = std::cos(val), fci = std::sin(val);
      int const rotn = i < kv_dim ? 2 : 1;
      for (int r = 0; r < rotn; ++r) {
        std::vector<float>& vec = r == 0 ? q : k;
        float const v0 = vec[static_cast<std::size_t>(i)],
                    v1 = vec[static_cast<std::size_t>(i + 1)];
        vec[static_cast<std::size_t>(i)] = v0 * fcr - v1 * fci;
        vec[static_cast<std::size_t>(i + 1)] = v0 * fci + v1 * fcr;
      }
    }
    std::copy(k.begin(), k.end(), s.k[static_cast<std::size_t>(l)].begin() + pos * kv_dim);
    std::copy(v.begin(), v.end(), s.v[static_cast<std::size_t>(l)].begin() + pos * kv_dim);
    std::vector<float> att_out(static_cast<std::size_t>(p.n_heads * hd), 0.0f);
    for (int h = 0; h < p.n_heads; ++h) {
      std::vector<float> att(static_cast<std::size_t>(pos + 1));
      for (int t = 0; t <= pos; ++t) {
        float score = 0.0f;
        for (int i = 0; i < hd; ++i) {
          score += q[static_cast<std::size_t>(h * hd + i)] *
                   s.k[static_cast<std::size_t>(l)]
                      [static_cast<std::size_t>(t * kv_dim + (h / kv_mul) * hd + i)];
        }
        att[static_cast<std::size_t>(t)] = score / std::sqrt(static_cast<float>(hd));
      }
      float const mx = *std::max_element(att.begin(), att.end());
      float sum = 0.0f;
      for (float& a : att) {
        a = std::exp(a - mx);
        sum += a;
      }
      for (int t = 0; t <= pos; ++t) {
        for (int i = 0; i < hd; ++i) {
          att_out[static_cast<std::size_t>(h * hd + i)] +=
              att[static_cast<std::size_t>(t)] / sum *
              s.v[static_cast<std::size_t>(l)]
                 [static_cast<std::size_t>(t * kv_dim + (h / kv_mul) * hd + i)];
        }
      }
    }
    matmul(xb2, att_out, L.wo.data(), p.n_heads * hd, dim);
    for (int i = 0; i < dim; ++i) {
      x[static_cast<std::size_t>(i)] += xb2[static_cast<std::size_t>(i)];
    }
    xb = rmsnorm(x, L.ffn_norm);
    matmul(hb, xb, L.w_gate.data(), dim, hidden);
    matmul(hb2, xb, L.w_up.data(), dim, hidden);
    for (int i = 0; i < hidden; ++i) {
      float const g = hb[static_cast<std::size_t>(i)];
      hb[static_cast<std::size_t>(i)] =
          g * (1.0f / (1.0f + std::exp(-g))) * hb2[static_cast<std::size_t>(i)];
    }
    matmul(xb2, hb, L.w_down.data(), hidden, dim);
    for (int i = 0; i < dim; ++i) {
      x[static_cast<std::size_t>(i)] += xb2[static_cast<std::size_t>(i)];
    }
  }
  auto const xf = rmsnorm(x, w.final_norm);
  std::vector<float> logits;
  matmul(logits, xf, w.embedding.data(), dim, p.vocab_size);
  return logits;
}

}  // namespace

TEST_CASE("forward matches a llama2.c-style single-token reference (fp32)") {
  Model const& m = model();
  RefState ref;
  KVCache cache = m.make_cache();
  for (std::size_t i = 0; i < kTokens.size(); ++i) {
    auto const want = ref_forward(m.weights(), ref, kTokens[i], static_cast<int>(i));
    int const tok[1] = {kTokens[i]};
    auto const got = m.forward_last(tok, cache);
    CHECK(max_abs_diff(got, want) < 1e-4f);
  }
}

TEST_CASE("batched prefill logits equal token-by-token decode logits") {
  Model const& m = model();
  auto const vocab = static_cast<std::size_t>(m.config().vocab_size);
  KVCache batch = m.make_cache();
  auto const all = m.forward_all(kTokens, batch);
  CHECK(batch.length() == static_cast<int>(kTokens.size()));
  KVCache step = m.make_cache();
  for (std::size_t i = 0; i < kTokens.size(); ++i) {
    int const tok[1] = {kTokens[i]};
    auto const one = m.forward_last(tok, step);
    std::vector<float> const row(
        all.begin() + static_cast<std::ptrdiff_t>(i * vocab),
        all.begin() + static_cast<std::ptrdiff_t>((i + 1) * vocab));
    CHECK(max_rel_diff(one, row) < 1e-5f);
  }
  // Last-only logits equal the last row.
  KVCache last = m.make_cache();
  auto const l = m.forward_last(kTokens, last);
  std::vector<float> const last_row(all.end() - static_cast<std::ptrdiff_t>(vocab), all.end());
  CHECK(max_rel_diff(l, last_row) < 1e-5f);
}

TEST_CASE("a forked KV cache continues like one long forward") {
  Model const& m = model();
  std::span<int const> const all(kTokens);
  KVCache full = m.make_cache();
  auto const want = m.forward_all(all, full);
  KVCache prefix = m.make_cache(4);
  (void)m.forward_last(all.first(4), prefix);
  KVCache fork = prefix.fork(static_cast<int>(kTokens.size()));
  CHECK(fork.capacity() >= static_cast<int>(kTokens.size()));
  auto const rest = m.forward_all(all.subspan(4), fork);
  auto const vocab = static_cast<std::ptrdiff_t>(m.config().vocab_size);
  std::vector<float> const tail(want.begin() + 4 * vocab, want.end());
  CHECK(max_rel_diff(rest, tail) < 1e-5f);
  CHECK(prefix.length() == 4);  // the original is untouched
}

TEST_CASE("plans: all-float overrides equal the float forward exactly, W8A8 stays close") {
  Model const& m = model();
  KVCache c0 = m.make_cache();
  auto const ref = m.forward_all(kTokens, c0);

  QuantPlan all_float = QuantPlan::w8a8(ActScheme::kPerTensor);
  for (ModuleId const& id : m.module_ids()) {
    all_float.set_mode(id, LinearMode::kFloat);
  }
  ForwardOptions o;
  o.plan = &all_float;
  KVCache c1 = m.make_cache();
  CHECK(m.forward_all(kTokens, c1, o) == ref);

  for (ActScheme act : {ActScheme::kPerToken, ActScheme::kPerTensor}) {
    CAPTURE(to_string(act));
    QuantPlan const plan = QuantPlan::w8a8(act);
    o.plan = &plan;
    KVCache c = m.make_cache();
    auto const q = m.forward_all(kTokens, c, o);
    CHECK(max_abs_diff(q, ref) > 0.0f);  // quantization really happened
    double const e = rel_l2(q, ref);     // and stays a small perturbation of the logits
    MESSAGE(to_string(act), " relative L2 logit error ", e);
    CHECK(e < 0.05);
  }
  QuantPlan const w8a16 = QuantPlan::uniform(LinearMode::kW8A16);
  o.plan = &w8a16;
  KVCache c2 = m.make_cache();
  auto const q16 = m.forward_all(kTokens, c2, o);
  CHECK(max_abs_diff(q16, ref) > 0.0f);
  double const e16 = rel_l2(q16, ref);
  MESSAGE("w8a16 relative L2 logit error ", e16);
  CHECK(e16 < 0.02);
}

TEST_CASE("w8a8-static needs calibrated scales, the linear dispatch follows the plan") {
  Model const& m = model();
  QuantPlan plan = QuantPlan::w8a8(ActScheme::kStatic);
  ForwardOptions o;
  o.plan = &plan;
  KVCache c = m.make_cache();
  CHECK_THROWS_AS(m.forward_all(kTokens, c, o), Error);

  // One module's dispatch against cpu::linear_w8a8 called directly.
  ModuleId const id{2, ModuleKind::kDown, -1};
  std::vector<float> x(static_cast<std::size_t>(3 * m.config().hidden_dim));
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = std::sin(0.37f * static_cast<float>(i));
  }
  MatrixRef<float const> const xr{x.data(), 3, m.config().hidden_dim, m.config().hidden_dim};
  std::vector<float> y1(static_cast<std::size_t>(3 * m.config().dim)), y2(y1.size());
  plan.set_static_scale(id, 0.5f / 127.0f);
  m.linear(id, xr, {y1.data(), 3, m.config().dim, m.config().dim}, plan);
  auto const qw = cpu::quantize_weight(m.weight(id));
  cpu::linear_w8a8(
      xr,
      qw,
      ActScheme::kStatic,
      0.5f / 127.0f,
      {},
      {y2.data(), 3, m.config().dim, m.config().dim});
  CHECK(y1 == y2);
}

TEST_CASE("observer sees every module once per forward with (tokens, in_features) inputs") {
  Model const& m = model();
  Config const& c = m.config();
  std::map<ModuleId, int> calls;
  std::map<ModuleId, std::vector<float>> inputs;
  ForwardOptions o;
  o.observer = [&](ModuleId const& id, MatrixRef<float const> x, ForwardContext const& ctx) {
    ++calls[id];
    CHECK(x.rows == static_cast<std::int64_t>(kTokens.size()));
    CHECK(x.cols == m.module_shape(id).second);
    CHECK(ctx.layer == id.layer);
    CHECK(ctx.start_pos == 0);
    CHECK(ctx.tokens.size() == kTokens.size());
    inputs[id].assign(x.data, x.data + x.rows * x.ld);
  };
  KVCache cache = m.make_cache();
  (void)m.forward_last(kTokens, cache, o);
  CHECK(calls.size() == static_cast<std::size_t>(c.n_layers * 7));
  for (auto const& [id, n] : calls) {
    CHECK(n == 1);
  }
  // Siblings see the same input.
  CHECK(inputs[{1, ModuleKind::kQ, -1}] == inputs[{1, ModuleKind::kV, -1}]);
  CHECK(inputs[{1, ModuleKind::kGate, -1}] == inputs[{1, ModuleKind::kUp, -1}]);
  // Layer 0's q input is RMSNorm(embedding) computed here by hand.
  auto const& q0 = inputs[{0, ModuleKind::kQ, -1}];
  for (std::size_t t = 0; t < kTokens.size(); ++t) {
    float const* e = m.weights().embedding.data() + kTokens[t] * c.dim;
    double ss = 0.0;
    for (int j = 0; j < c.dim; ++j) {
      ss += static_cast<double>(e[j]) * e[j];
    }
    float const inv = static_cast<float>(1.0 / std::sqrt(ss / c.dim + c.norm_eps));
    for (int j = 0; j < c.dim; ++j) {
      CHECK(
          q0[t * static_cast<std::size_t>(c.dim) + static_cast<std::size_t>(j)] ==
          doctest::Approx(e[j] * inv * m.weights().layers[0].attn_norm[static_cast<std::size_t>(j)])
              .epsilon(1e-5));
    }
  }
}

namespace {
// Planted spike: multiplies chosen rows of a down input by F and divides the output rows back.
struct PlantSpike final : ModuleHook {
  float factor;
  std::set<int> layers;
  std::set<int> positions;
  bool undo = true;
  int before_calls = 0;
  void before(ModuleId const& id, MatrixRef<float> x, ForwardContext const& ctx) override {
    ++before_calls;
    if (id.kind != ModuleKind::kDown || !layers.contains(id.layer)) {
      return;
    }
    for (std::int64_t r = 0; r < x.rows; ++r) {
      if (positions.contains(ctx.position(r))) {
        for (std::int64_t j = 0; j < x.cols; ++j) {
          x(r, j) *= factor;
        }
      }
    }
  }
  void after(ModuleId const& id, MatrixRef<float> y, ForwardContext const& ctx) override {
    if (!undo || id.kind != ModuleKind::kDown || !layers.contains(id.layer)) {
      return;
    }
    for (std::int64_t r = 0; r < y.rows; ++r) {
      if (positions.contains(ctx.position(r))) {
        for (std::int64_t j = 0; j < y.cols; ++j) {
          y(r, j) /= factor;
        }
      }
    }
  }
};
}  // namespace

TEST_CASE("a multiply-before / divide-after hook leaves float logits unchanged") {
  Model const& m = model();
  KVCache c0 = m.make_cache();
  auto const ref = m.forward_all(kTokens, c0);
  PlantSpike hook;
  hook.factor = 1000.0f;
  hook.layers = {0, 3};
  hook.positions = {0, 5};
  ForwardOptions o;
  o.hook = &hook;
  float down_absmax = 0.0f;
  o.observer = [&](ModuleId const& id, MatrixRef<float const> x, ForwardContext const&) {
    if (id.layer == 0 && id.kind == ModuleKind::kDown) {
      for (std::int64_t j = 0; j < x.cols; ++j) {
        down_absmax = std::max(down_absmax, std::abs(x(0, j)));
      }
    }
  };
  KVCache c1 = m.make_cache();
  auto const got = m.forward_all(kTokens, c1, o);
  CHECK(max_rel_diff(got, ref) < 1e-4f);
  CHECK(hook.before_calls == m.config().n_layers * 4);  // once per sibling group
  CHECK(down_absmax > 100.0f);                          // observers see the planted spike

  // Without the undo the logits change: the hook really modifies the forward.
  hook.undo = false;
  o.observer = {};
  KVCache c2 = m.make_cache();
  CHECK(max_abs_diff(m.forward_all(kTokens, c2, o), ref) > 1.0f);

  // Under W8A8 per-tensor the planted spike hurts the other tokens (the point of the paper).
  hook.undo = true;
  QuantPlan const pt = QuantPlan::w8a8(ActScheme::kPerTensor);
  QuantPlan const ptok = QuantPlan::w8a8(ActScheme::kPerToken);
  o.plan = &pt;
  KVCache c3 = m.make_cache();
  double const err_tensor = rel_l2(m.forward_all(kTokens, c3, o), ref);
  o.plan = &ptok;
  KVCache c4 = m.make_cache();
  double const err_token = rel_l2(m.forward_all(kTokens, c4, o), ref);
  MESSAGE("planted spike: per-tensor error ", err_tensor, ", per-token error ", err_token);
  CHECK(err_tensor > 2.0f * err_token);
}

TEST_CASE("stop_after_layer runs only the first layers and leaves the cache length") {
  Model const& m = model();
  std::set<int> layers;
  ForwardOptions o;
  o.stop_after_layer = 1;
  o.observer = [&](ModuleId const& id, MatrixRef<float const>, ForwardContext const&) {
    layers.insert(id.layer);
  };
  KVCache cache = m.make_cache();
  m.forward(kTokens, cache, {}, o);
  CHECK(layers == std::set<int>{0, 1});
  CHECK(cache.length() == 0);
}

TEST_CASE("bad input: token ids, cache capacity, logits shape") {
  Model const& m = model();
  KVCache cache = m.make_cache(4);
  std::vector<int> bad = {1, 5, 512};
  try {
    (void)m.forward_last(bad, cache);
    FAIL("no error for token 512");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
    std::string const what = e.what();
    CHECK(what.find("512") != std::string::npos);
    CHECK(what.find("vocabulary of 512") != std::string::npos);
  }
  std::vector<int> neg = {1, -3};
  CHECK_THROWS_AS((void)m.forward_last(neg, cache), Error);
  CHECK(cache.length() == 0);
  std::vector<int> five = {1, 2, 3, 4, 5};
  CHECK_THROWS_AS((void)m.forward_last(five, cache), Error);
  CHECK_THROWS_AS((void)m.forward_last(std::span<int const>{}, cache), Error);
  std::vector<float> small(10);
  std::vector<int> two = {1, 2};
  CHECK_THROWS_AS(m.forward(two, cache, {small.data(), 1, 10, 10}), Error);
}
