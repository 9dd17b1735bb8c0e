// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Calibration on a Mixtral model (the tiny test/fixtures/hf/mixtral checkpoint, random
//! token windows): per-expert statistics over routed tokens with windows that skip experts,
//! QFeM exclusions inside an expert, static scales, the perplexity protocol, recipes with
//! expert names, SmoothQuant through the router, planted spikes and the QFeP search.
#include "common/data.hpp"
#include "spikequant/calib/pipeline.hpp"
#include "spikequant/io/hf_checkpoint.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <vector>

using namespace spikequant;
using namespace spikequant::calib;

namespace {

llama::Model const& mixtral() {
  static llama::Model const m(
      io::load_hf(spikequant_test::source_path("test/fixtures/hf/mixtral")));
  return m;
}

//! `count` windows of BOS + len - 1 random tokens in [3, 64).
std::vector<std::vector<int>> random_windows(int count, int len, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> tok(3, 63);
  std::vector<std::vector<int>> out;
  for (int i = 0; i < count; ++i) {
    std::vector<int> w = {1};
    for (int t = 1; t < len; ++t) {
      w.push_back(tok(rng));
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

TEST_CASE("mixtral calibration: per-expert statistics over routed tokens, windows skip experts") {
  auto const& m = mixtral();
  int const k = m.config().experts_per_token;
  // Short windows (3 tokens, 2 routed slots each per layer) leave some expert without a token
  // in some window.
  auto const windows = random_windows(12, 3, 11);
  // An independent record: per module and window, the token-wise scales of its input.
  std::map<ModuleId, std::vector<std::vector<float>>> raw;
  static llama::QuantPlan const fp;
  for (auto const& w : windows) {
    llama::ForwardOptions fo;
    fo.plan = &fp;
    std::map<ModuleId, std::vector<float>> seen;
    fo.observer = [&](ModuleId const& id, MatrixRef<float const> x, llama::ForwardContext const&) {
      seen[id] = token_scales(x);
    };
    auto cache = m.make_cache(static_cast<int>(w.size()));
    m.forward(w, cache, {}, fo);
    for (auto& [id, s] : seen) {
      raw[id].push_back(std::move(s));
    }
  }
  auto const cal = collect_statistics(m, windows);
  CHECK(cal.tokens == 36);
  int skipped = 0;
  std::map<std::pair<int, ModuleKind>, std::int64_t> routed;
  for (auto const& st : cal.stats) {
    CAPTURE(short_name(st.id));
    CHECK(representative(st.id.kind) == st.id.kind);
    CHECK(st.id.is_expert() == (st.id.kind == ModuleKind::kUp || st.id.kind == ModuleKind::kDown));
    auto const& per_window = raw.at(st.id);
    REQUIRE(st.seq_ratio.size() == per_window.size());  // only windows that reached it
    skipped += static_cast<int>(windows.size() - per_window.size());
    double sum = 0.0;
    for (auto const& s : per_window) {
      sum += max_median_ratio(s);
    }
    CHECK(std::isfinite(st.ratio));
    CHECK(st.ratio == doctest::Approx(sum / static_cast<double>(per_window.size())));
    if (st.id.is_expert()) {
      routed[{st.id.layer, st.id.kind}] += st.tokens;
    } else {
      CHECK(st.tokens == 36);
    }
  }
  CHECK(skipped > 0);  // the skip really happened
  for (auto const& [key, n] : routed) {
    CHECK(n == 36 * k);  // each token reached k experts
  }
  // QFeP candidates read token ids through the routed rows.
  for (auto const& st : cal.stats) {
    for (auto const& t : st.top_tokens) {
      auto const& w = windows[static_cast<std::size_t>(t.sequence)];
      CHECK(w[static_cast<std::size_t>(t.position)] == t.token);
    }
  }
}

TEST_CASE("mixtral: QFeM excludes sibling groups inside an expert, static scales, perplexity") {
  auto const& m = mixtral();
  auto const calib = random_windows(6, 12, 5);
  auto const eval_stream = windows_stream(random_windows(4, 12, 9), 1);
  SharedCalibration shared{collect_statistics(m, calib), std::nullopt};
  auto const infos = module_infos(shared.plain.stats);
  // Groups: q and o per layer, up and down per expert that saw tokens.
  CHECK(infos.size() <= 2u * (2u + 2u * 4u));
  // The expert group with the largest r(m): excluding it keeps its siblings in that expert.
  ModuleInfo top{{0, ModuleKind::kQ, -1}, 0.0};
  for (auto const& i : infos) {
    if (i.id.is_expert() && i.ratio > top.ratio) {
      top = i;
    }
  }
  REQUIRE(top.id.is_expert());
  auto const up_top = std::find_if(infos.begin(), infos.end(), [](ModuleInfo const& i) {
    return i.id.is_expert() && i.id.kind == ModuleKind::kUp;
  });
  REQUIRE(up_top != infos.end());
  std::vector<ModuleInfo> one = {*up_top};
  auto const ex = qfem_select(one, up_top->ratio - 1e-9);
  CHECK(
      ex == std::set<ModuleId>{
                {up_top->id.layer, ModuleKind::kGate, up_top->id.expert},
                {up_top->id.layer, ModuleKind::kUp, up_top->id.expert}});
  MESSAGE("largest r(m): " << short_name(top.id) << " " << top.ratio);

  static llama::QuantPlan const fp;
  double const float_ppl = evaluate_ppl(m, eval_stream, 12, fp).ppl;
  // The protocol against a plain computation: BOS + chunk of 11, every chunk token scored.
  double nll = 0.0;
  std::int64_t count = 0;
  for (std::size_t i = 0; i < eval_stream.size(); i += 11) {
    std::vector<int> w = {1};
    for (std::size_t j = i; j < std::min(i + 11, eval_stream.size()); ++j) {
      w.push_back(eval_stream[j]);
    }
    auto cache = m.make_cache(static_cast<int>(w.size()));
    auto const logits = m.forward_all(w, cache);
    for (std::size_t t = 0; t + 1 < w.size(); ++t) {
      nll += llama::token_nll(std::span<float const>(logits).subspan(t * 64, 64), w[t + 1]);
      ++count;
    }
  }
  CHECK(float_ppl == doctest::Approx(std::exp(nll / static_cast<double>(count))).epsilon(1e-9));

  for (ActScheme scheme : {ActScheme::kPerTensor, ActScheme::kStatic}) {
    CAPTURE(to_string(scheme));
    MethodOptions opt;
    opt.scheme = scheme;
    opt.qfem_alpha = top.ratio - 1e-9;  // the top expert group (and denser ones above it)
    opt.seq_len = 12;
    auto const r = run_method(m, shared, calib, eval_stream, opt);
    std::set<ModuleId> experts_out;
    for (auto const& id : r.excluded) {
      if (id.is_expert()) {
        experts_out.insert(id);
      }
    }
    if (top.id.kind == ModuleKind::kUp) {
      CHECK(
          experts_out == std::set<ModuleId>{
                             {top.id.layer, ModuleKind::kGate, top.id.expert},
                             {top.id.layer, ModuleKind::kUp, top.id.expert}});
    } else {
      CHECK(experts_out == std::set<ModuleId>{top.id});
    }
    CHECK(r.excluded_groups >= 1);
    CHECK(r.total_groups == static_cast<int>(infos.size()));
    CHECK(std::isfinite(r.ppl));
    CHECK(r.ppl == doctest::Approx(float_ppl).epsilon(0.05));  // W8A8 stays near float here
    CHECK(r.ppl != float_ppl);
    if (scheme == ActScheme::kStatic) {
      // Every module of the model has a scale, experts included (unrouted ones filled).
      auto const ids = m.module_ids();
      for (auto const& id : ids) {
        CAPTURE(short_name(id));
        CHECK(r.recipe.static_scales.contains(id));
      }
      // Expert scales are max over the routed rows: the same as calibrate_static_scales.
      auto const direct = llama::calibrate_static_scales(m, calib);
      CHECK(direct == r.recipe.static_scales);
    }
    // The recipe names experts by their Hugging Face names and reads back the same.
    auto const j = to_json(r.recipe);
    auto const back = recipe_from_json(j);
    CHECK(back == r.recipe);
    CHECK_NOTHROW(
        check_recipe_fits(back, m.module_ids(), 2, m.config().dim, m.config().vocab_size));
    CHECK(j.at("qfem").at("excluded").dump().find(hf_name(top.id)) != std::string::npos);
  }
}

TEST_CASE("mixtral: SmoothQuant folds one set of factors into ffn_norm, router and experts") {
  auto const& m = mixtral();
  auto const calib = random_windows(4, 12, 3);
  auto const cal = collect_statistics(m, calib);
  auto const sm = smoothquant_factors(m.weights(), cal.channels, 0.8f);
  for (auto const& l : sm.layers) {
    CHECK(l.attn.size() == 32u);
    CHECK(l.ffn.size() == 32u);
  }
  CHECK(std::any_of(sm.layers[1].ffn.begin(), sm.layers[1].ffn.end(), [](float f) {
    return std::fabs(f - 1.0f) > 0.1f;
  }));
  auto const smoothed_w = apply_smoothing(m.weights(), sm);
  // The router columns were scaled too (else routing would change).
  CHECK(smoothed_w.layers[0].router[0] == m.weights().layers[0].router[0] * sm.layers[0].ffn[0]);
  CHECK(
      smoothed_w.layers[0].experts[3].w_up[1] ==
      m.weights().layers[0].experts[3].w_up[1] * sm.layers[0].ffn[1]);
  llama::Model const smoothed(smoothed_w);
  auto const& w = calib[2];
  auto c1 = m.make_cache(12);
  auto c2 = smoothed.make_cache(12);
  auto const a = m.forward_all(w, c1);
  auto const b = smoothed.forward_all(w, c2);
  double max_err = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    max_err = std::max(max_err, std::fabs(static_cast<double>(a[i]) - b[i]));
  }
  CHECK(max_err < 1e-4);
  // An excluded expert group alone does not stop smoothing; all of a layer's experts do.
  std::set<ModuleId> all_l1;
  for (int e = 0; e < 4; ++e) {
    all_l1.insert({1, ModuleKind::kUp, e});
  }
  auto const sm2 = smoothquant_factors(m.weights(), cal.channels, 0.8f, all_l1);
  CHECK(sm2.layers[1].ffn.empty());
  CHECK(sm2.layers[0].ffn == sm.layers[0].ffn);
  auto const sm3 = smoothquant_factors(m.weights(), cal.channels, 0.8f, {{1, ModuleKind::kUp, 2}});
  CHECK(sm3.layers[1].ffn == sm.layers[1].ffn);
}

TEST_CASE("mixtral with planted spikes: float unchanged, experts spike, QFeP finds the token") {
  auto const& m = mixtral();
  int const planted = 7;
  PlantedSpikesHook hook({.factor = 1000.0f, .token = planted, .bos_id = 1, .layers = {}}, 2);
  CHECK(hook.spikes().applies_to({0, ModuleKind::kDown, 3}));
  CHECK_FALSE(hook.spikes().applies_to({0, ModuleKind::kUp, 3}));
  auto const planted_modules = hook.spikes().planted_modules(4);
  CHECK(planted_modules.size() == 8u);  // both layers' experts' downs
  CHECK(planted_modules.contains({1, ModuleKind::kDown, 3}));
  auto calib = random_windows(8, 16, 21);
  for (auto& w : calib) {
    w[5] = planted;  // a first occurrence in every window
    w[11] = planted;
  }
  static llama::QuantPlan const fp;
  auto const stream = windows_stream(calib, 1);
  double const plain = evaluate_ppl(m, stream, 16, fp).ppl;
  double const with_hook = evaluate_ppl(m, stream, 16, fp, nullptr, &hook).ppl;
  CHECK(with_hook == doctest::Approx(plain).epsilon(1e-4));

  SharedCalibration shared{collect_statistics(m, calib, {nullptr, &hook, {}}), std::nullopt};
  auto const& top = top_module(shared.plain.stats);
  CHECK(top.id.is_expert());
  CHECK(top.id.kind == ModuleKind::kDown);
  CHECK(top.ratio > 100.0);
  MethodOptions qfep;
  qfep.scheme = ActScheme::kPerTensor;
  qfep.qfep = true;
  qfep.qfep_options.n_contexts = 20;
  qfep.seq_len = 16;
  auto const r = run_method(m, shared, calib, stream, qfep, &hook);
  REQUIRE(r.qfep.has_value());
  CHECK(r.qfep->module == top.id);
  REQUIRE(r.prefix.size() == 3);
  CHECK(r.prefix[0] == 1);
  CHECK(r.prefix[2] == planted);
  CHECK(std::isfinite(r.ppl));
  CHECK(std::isfinite(r.float_ppl_with_prefix));
}
