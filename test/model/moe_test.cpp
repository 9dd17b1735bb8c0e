// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The sparse MoE FFN (Mixtral) on small synthetic models, no data files: a one-expert
//! top-1 MoE equals the dense model with that expert, module lists and shapes, an expert no
//! token reaches, hooks and observers on routed rows, plans per expert, weight validation.
//! The comparison with transformers is in hf_logits_test.cpp / torch_quant_test.cpp.
#include "common/compare.hpp"
#include "spikequant/model/model.hpp"
#include "spikequant/model/perplexity.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <map>
#include <random>
#include <set>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

namespace {

using spikequant_test::max_abs_diff;

std::vector<float> randn(std::mt19937& rng, std::size_t n, float stddev, float mean = 0.0f) {
  std::normal_distribution<float> d(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) {
    x = d(rng);
  }
  return v;
}

Config tiny_config(int n_experts, int k) {
  Config c;
  c.family = n_experts > 0 ? "mixtral" : "llama";
  c.dim = 16;
  c.hidden_dim = 24;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 4;
  c.vocab_size = 40;
  c.max_seq_len = 32;
  c.n_experts = n_experts;
  c.experts_per_token = k;
  return c;
}

//! Random weights (std 0.3, norms around 1); MoE layers get a router and experts.
Weights tiny_weights(int n_experts, int k, unsigned seed = 7) {
  std::mt19937 rng(seed);
  Weights w;
  w.config = tiny_config(n_experts, k);
  auto const& c = w.config;
  auto const dim = static_cast<std::size_t>(c.dim);
  auto const hidden = static_cast<std::size_t>(c.hidden_dim);
  auto const qd = static_cast<std::size_t>(c.n_heads * c.head_dim);
  auto const kvd = static_cast<std::size_t>(c.n_kv_heads * c.head_dim);
  w.embedding = randn(rng, static_cast<std::size_t>(c.vocab_size) * dim, 1.0f);
  w.final_norm = randn(rng, dim, 0.1f, 1.0f);
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights L;
    L.attn_norm = randn(rng, dim, 0.1f, 1.0f);
    L.ffn_norm = randn(rng, dim, 0.1f, 1.0f);
    L.wq = randn(rng, qd * dim, 0.3f);
    L.wk = randn(rng, kvd * dim, 0.3f);
    L.wv = randn(rng, kvd * dim, 0.3f);
    L.wo = randn(rng, dim * qd, 0.3f);
    if (n_experts == 0) {
      L.w_gate = randn(rng, hidden * dim, 0.3f);
      L.w_up = randn(rng, hidden * dim, 0.3f);
      L.w_down = randn(rng, dim * hidden, 0.3f);
    } else {
      L.router = randn(rng, static_cast<std::size_t>(n_experts) * dim, 0.5f);
      for (int e = 0; e < n_experts; ++e) {
        L.experts.push_back(
            {randn(rng, hidden * dim, 0.3f),
             randn(rng, hidden * dim, 0.3f),
             randn(rng, dim * hidden, 0.3f)});
      }
    }
    w.layers.push_back(std::move(L));
  }
  return w;
}

std::vector<int> const kTokens = {1, 5, 17, 33, 3, 39, 9, 9, 21, 2, 30, 11, 7, 25};

std::vector<float>
run(Model const& m, std::vector<int> const& tokens, ForwardOptions const& o = {}) {
  KVCache cache = m.make_cache(static_cast<int>(tokens.size()));
  return m.forward_all(tokens, cache, o);
}

template <class F>
void expect_error(F&& f, ErrorKind kind, std::string const& needle) {
  try {
    f();
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == kind);
    CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
  }
}

}  // namespace

TEST_CASE("MoE: one expert, top-1 equals the dense model with that expert as its FFN") {
  Weights moe = tiny_weights(1, 1);
  Weights dense = moe;
  dense.config.n_experts = 0;
  dense.config.experts_per_token = 0;
  for (auto& L : dense.layers) {
    L.w_gate = L.experts[0].w_gate;
    L.w_up = L.experts[0].w_up;
    L.w_down = L.experts[0].w_down;
    L.router.clear();
    L.experts.clear();
  }
  Model const a(moe);
  Model const b(dense);
  // Weight 1 exactly (p / p), all rows in order: the same GEMMs, the same bits.
  CHECK(run(a, kTokens) == run(b, kTokens));
  for (ActScheme act : {ActScheme::kPerToken, ActScheme::kPerTensor}) {
    QuantPlan const plan = QuantPlan::w8a8(act);
    ForwardOptions o;
    o.plan = &plan;
    CHECK(run(a, kTokens, o) == run(b, kTokens, o));
  }
}

TEST_CASE("MoE: module list, shapes, weights and the INT8 cache cover the experts") {
  Model const m(tiny_weights(3, 2));
  auto const ids = m.module_ids();
  REQUIRE(ids.size() == 2u * (4u + 3u * 3u));
  // Layer 0: q k v o, then expert 0 gate up down, expert 1 ..., expert 2 ...
  CHECK(ids[3] == ModuleId{0, ModuleKind::kO, -1});
  CHECK(ids[4] == ModuleId{0, ModuleKind::kGate, 0});
  CHECK(ids[6] == ModuleId{0, ModuleKind::kDown, 0});
  CHECK(ids[12] == ModuleId{0, ModuleKind::kDown, 2});
  CHECK(ids[13] == ModuleId{1, ModuleKind::kQ, -1});
  CHECK(std::set<ModuleId>(ids.begin(), ids.end()).size() == ids.size());
  CHECK(m.module_infos().size() == ids.size());
  for (ModuleId const& id : ids) {
    CAPTURE(short_name(id));
    auto const [out, in] = m.module_shape(id);
    auto const w = m.weight(id);
    CHECK(w.rows == out);
    CHECK(w.cols == in);
    auto const& q = m.quantized_weight(id);
    CHECK(q.out_features == out);
    CHECK(q.in_features == in);
  }
  ModuleId const e1down{1, ModuleKind::kDown, 1};
  CHECK(m.module_shape(e1down) == std::pair<std::int64_t, std::int64_t>{16, 24});
  CHECK(m.weight(e1down).data == m.weights().layers[1].experts[1].w_down.data());
  CHECK(m.weight({0, ModuleKind::kGate, 2}).data == m.weights().layers[0].experts[2].w_gate.data());
  CHECK(m.weight({0, ModuleKind::kUp, 2}).data == m.weights().layers[0].experts[2].w_up.data());
  // Dense FFN ids and experts out of range do not exist here; experts do not exist in a dense
  // model.
  expect_error(
      [&] {
        (void)m.module_shape({0, ModuleKind::kDown, -1});
      },
      ErrorKind::kInvalidArgument,
      "does not exist in a MoE model with 3 experts");
  expect_error(
      [&] {
        (void)m.module_shape({0, ModuleKind::kUp, 3});
      },
      ErrorKind::kInvalidArgument,
      "L0.e3.up");
  expect_error(
      [&] {
        (void)m.module_shape({0, ModuleKind::kQ, 0});
      },
      ErrorKind::kInvalidArgument,
      "L0.e0.q");
  Model const dense(tiny_weights(0, 0));
  CHECK(dense.module_ids().size() == 14u);
  expect_error(
      [&] {
        (void)dense.module_shape({0, ModuleKind::kDown, 0});
      },
      ErrorKind::kInvalidArgument,
      "dense model");
}

TEST_CASE("MoE: hooks and observers see each expert's routed rows, decode equals prefill") {
  Model const m(tiny_weights(4, 2));
  int const k = m.config().experts_per_token;
  struct Counting : ModuleHook {
    std::map<ModuleId, int> before_calls;
    std::map<ModuleId, std::int64_t> after_rows;
    void before(ModuleId const& id, MatrixRef<float> x, ForwardContext const& ctx) override {
      ++before_calls[id];
      if (id.is_expert()) {
        CHECK(static_cast<std::int64_t>(ctx.rows.size()) == x.rows);
        CHECK(id.kind != ModuleKind::kGate);  // once per group: the representative
      } else {
        CHECK(ctx.rows.empty());
      }
    }
    void after(ModuleId const& id, MatrixRef<float> y, ForwardContext const&) override {
      after_rows[id] += y.rows;
    }
  } hook;
  std::map<ModuleId, std::int64_t> observed_rows;
  ForwardOptions o;
  o.hook = &hook;
  o.observer = [&](ModuleId const& id, MatrixRef<float const> x, ForwardContext const& ctx) {
    observed_rows[id] += x.rows;
    for (std::int64_t r = 0; r < x.rows; ++r) {
      CHECK(ctx.token(r) == kTokens[static_cast<std::size_t>(ctx.sequence_row(r))]);
    }
  };
  auto const logits = run(m, kTokens, o);
  auto const n = static_cast<std::int64_t>(kTokens.size());
  for (int l = 0; l < 2; ++l) {
    CHECK(hook.before_calls.at({l, ModuleKind::kQ, -1}) == 1);
    CHECK(hook.before_calls.at({l, ModuleKind::kO, -1}) == 1);
    std::int64_t up_rows = 0;
    std::int64_t down_rows = 0;
    for (int e = 0; e < 4; ++e) {
      ModuleId const up{l, ModuleKind::kUp, e};
      ModuleId const gate{l, ModuleKind::kGate, e};
      ModuleId const down{l, ModuleKind::kDown, e};
      if (!observed_rows.contains(up)) {
        CHECK_FALSE(hook.before_calls.contains(up));  // no token, no call
        continue;
      }
      CHECK(hook.before_calls.at(up) == 1);
      CHECK(observed_rows.at(gate) == observed_rows.at(up));
      CHECK(observed_rows.at(down) == observed_rows.at(up));
      CHECK(hook.after_rows.at(down) == observed_rows.at(up));
      up_rows += observed_rows.at(up);
      down_rows += hook.after_rows.at(down);
    }
    CHECK(up_rows == n * k);  // every token reaches exactly k experts
    CHECK(down_rows == n * k);
  }
  // Routing is per token, so token-by-token decode gives the same logits.
  KVCache step = m.make_cache(static_cast<int>(kTokens.size()));
  std::vector<float> decoded;
  for (int t : kTokens) {
    int const one[1] = {t};
    auto const row = m.forward_last(one, step);
    decoded.insert(decoded.end(), row.begin(), row.end());
  }
  CHECK(max_abs_diff(decoded, logits) < 1e-4f);
}

TEST_CASE("MoE: an expert that no token reaches is never called, and static scales fill it") {
  // Top-1 of router logits (u.x, -u.x, v.x, 0): expert 3 would need both u.x < 0 and
  // -u.x < 0, so it never wins (a tie at 0 goes to the lower index).
  Weights w = tiny_weights(4, 1);
  std::mt19937 rng(3);
  auto const dim = static_cast<std::size_t>(w.config.dim);
  for (auto& L : w.layers) {
    auto const u = randn(rng, dim, 1.0f);
    auto const v = randn(rng, dim, 1.0f);
    for (std::size_t j = 0; j < dim; ++j) {
      L.router[j] = u[j];
      L.router[dim + j] = -u[j];
      L.router[2 * dim + j] = v[j];
      L.router[3 * dim + j] = 0.0f;
    }
  }
  Model const m(std::move(w));
  std::set<ModuleId> seen;
  ForwardOptions o;
  o.observer = [&](ModuleId const& id, MatrixRef<float const>, ForwardContext const&) {
    seen.insert(id);
  };
  (void)run(m, kTokens, o);
  for (int l = 0; l < 2; ++l) {
    CHECK_FALSE(seen.contains({l, ModuleKind::kUp, 3}));
    CHECK((seen.contains({l, ModuleKind::kUp, 0}) || seen.contains({l, ModuleKind::kUp, 1})));
  }
  std::vector<std::vector<int>> const windows = {kTokens, {1, 8, 9, 10}};
  auto const scales = calibrate_static_scales(m, windows);
  auto const absmax = calibrate_absmax(m, windows);
  for (int l = 0; l < 2; ++l) {
    CHECK_FALSE(absmax.contains({l, ModuleKind::kDown, 3}));  // nothing was measured
    float widest = 0.0f;
    for (int e = 0; e < 3; ++e) {
      if (auto it = absmax.find({l, ModuleKind::kDown, e}); it != absmax.end()) {
        widest = std::max(widest, scale_from_absmax(it->second));
      }
    }
    REQUIRE(scales.contains({l, ModuleKind::kDown, 3}));
    CHECK(scales.at({l, ModuleKind::kDown, 3}) == widest);
  }
  // Every module of the model has a static scale, so a static plan runs anywhere.
  for (ModuleId const& id : m.module_ids()) {
    CAPTURE(short_name(id));
    CHECK(scales.contains(id));
  }
  QuantPlan plan = QuantPlan::w8a8(ActScheme::kStatic);
  plan.set_static_scales(scales);
  ForwardOptions q;
  q.plan = &plan;
  auto const quant = run(m, kTokens, q);
  auto const fp = run(m, kTokens);
  CHECK(max_abs_diff(quant, fp) > 1e-3f);
  CHECK(max_abs_diff(quant, fp) < 1.0f);
}

TEST_CASE("MoE: plans address experts one by one, siblings stay inside an expert") {
  Model const m(tiny_weights(4, 2));
  auto const fp = run(m, kTokens);
  QuantPlan plan = QuantPlan::w8a8(ActScheme::kPerTensor);
  auto const changed = plan.exclude(
      kind_is({ModuleKind::kUp}) &&
          ModuleFilter(
              [](ModuleInfo const& i) { return i.id.expert == 2 && i.id.layer == 1; },
              "layer 1 expert 2"),
      m.module_infos());
  CHECK(changed == std::vector<ModuleId>{{1, ModuleKind::kGate, 2}, {1, ModuleKind::kUp, 2}});
  CHECK(plan.get({1, ModuleKind::kDown, 2}).mode == LinearMode::kW8A8);
  CHECK(plan.get({1, ModuleKind::kUp, 1}).mode == LinearMode::kW8A8);
  ForwardOptions o;
  o.plan = &plan;
  auto const q = run(m, kTokens, o);
  CHECK(max_abs_diff(q, fp) > 1e-3f);
  // Every expert module W8A16 (attention too) stays much closer to float than W8A8.
  QuantPlan const w8a16 = QuantPlan::uniform(LinearMode::kW8A16);
  o.plan = &w8a16;
  auto const a16 = run(m, kTokens, o);
  CHECK(max_abs_diff(a16, fp) < max_abs_diff(q, fp));
  // Quantizing only expert 0 of layer 0 changes the logits (that expert gets tokens).
  QuantPlan one;
  for (ModuleKind k : {ModuleKind::kGate, ModuleKind::kUp, ModuleKind::kDown}) {
    one.set({0, k, 0}, {LinearMode::kW8A8, ActScheme::kPerToken, 0.0f});
  }
  o.plan = &one;
  std::set<int> reached;
  o.observer = [&](ModuleId const& id, MatrixRef<float const>, ForwardContext const&) {
    if (id.layer == 0 && id.is_expert()) {
      reached.insert(id.expert);
    }
  };
  auto const one_q = run(m, kTokens, o);
  REQUIRE(reached.contains(0));
  CHECK(max_abs_diff(one_q, fp) > 1e-5f);
}

TEST_CASE("MoE: weights that do not fit the config are rejected") {
  auto const good = tiny_weights(4, 2);
  CHECK_NOTHROW(Model{good});
  auto w = good;
  w.config.experts_per_token = 5;
  expect_error(
      [&] { Model{w}; },
      ErrorKind::kInvalidArgument,
      "experts_per_token must be in [1, n_experts = 4], got 5");
  w = good;
  w.config.experts_per_token = 0;
  expect_error([&] { Model{w}; }, ErrorKind::kInvalidArgument, "experts_per_token");
  w = good;
  w.config.n_experts = -1;
  expect_error([&] { Model{w}; }, ErrorKind::kInvalidArgument, "n_experts must be >= 0");
  w = good;
  w.layers[1].router.pop_back();
  expect_error([&] { Model{w}; }, ErrorKind::kShape, "layer 1 router");
  w = good;
  w.layers[0].experts.pop_back();
  expect_error([&] { Model{w}; }, ErrorKind::kShape, "has 3 experts, config says 4");
  w = good;
  w.layers[0].experts[2].w_down.resize(10);
  expect_error([&] { Model{w}; }, ErrorKind::kShape, "layer 0 expert 2 w_down");
  w = good;
  w.layers[0].w_up.assign(16 * 24, 0.0f);
  expect_error([&] { Model{w}; }, ErrorKind::kShape, "dense FFN weights");
  auto d = tiny_weights(0, 0);
  d.layers[0].router.assign(16, 0.0f);
  expect_error([&] { Model{d}; }, ErrorKind::kShape, "MoE weights");
}
