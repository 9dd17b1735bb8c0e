// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Calibration on the real stories260K: an independent r(m) agrees with the observer;
//! with planted spikes W8A8 per-tensor degrades and QFeM / QFeP find and repair them;
//! SmoothQuant folding keeps the float logits.
#include "calib/model_fixture.hpp"
#include "spikequant/calib/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <map>
#include <vector>

using namespace spikequant;
using namespace spikequant::calib;

namespace {
constexpr int kSeqLen = 64;

std::vector<std::vector<int>> windows(std::size_t first_token, int count) {
  auto* s = spikequant_test::stories();
  std::span<int const> all = s->tokens;
  return llama::make_windows(all.subspan(first_token), kSeqLen, s->model.config().bos_id, count);
}

//! The reference's definition with plain loops: per sequence, s_t = max_j |x|, sort, take
//! element (n - 1) / 2 (torch.median), ratio = max / median; r = mean of ratios.
double reference_ratio(std::vector<std::vector<std::vector<float>>> const& seqs, int cols) {
  double sum = 0.0;
  for (auto const& rows : seqs) {
    std::vector<float> s;
    for (auto const& row : rows) {
      float m = 0.0f;
      for (int j = 0; j < cols; ++j) {
        if (std::fabs(row[static_cast<std::size_t>(j)]) > m) {
          m = std::fabs(row[static_cast<std::size_t>(j)]);
        }
      }
      s.push_back(m);
    }
    std::vector<float> sorted = s;
    std::sort(sorted.begin(), sorted.end());
    float const med = sorted[(sorted.size() - 1) / 2];
    sum += static_cast<double>(sorted.back()) / static_cast<double>(med);
  }
  return sum / static_cast<double>(seqs.size());
}
}  // namespace

TEST_CASE("stories260K: observer r(m) equals an independent computation over recorded inputs") {
  auto* s = spikequant_test::stories();
  if (s == nullptr) {
    MESSAGE("shared data absent: skipped");
    return;
  }
  auto const w = windows(0, 4);
  // Record raw inputs of every representative with a plain observer.
  std::map<ModuleId, std::vector<std::vector<std::vector<float>>>> raw;
  std::map<ModuleId, int> cols;
  static llama::QuantPlan const fp;
  for (auto const& win : w) {
    llama::ForwardOptions fo;
    fo.plan = &fp;
    fo.observer = [&](ModuleId const& id, MatrixRef<float const> x, llama::ForwardContext const&) {
      auto& seq = raw[id].emplace_back();
      cols[id] = static_cast<int>(x.cols);
      for (std::int64_t r = 0; r < x.rows; ++r) {
        seq.emplace_back(x.row(r), x.row(r) + x.cols);
      }
    };
    auto cache = s->model.make_cache(static_cast<int>(win.size()));
    s->model.forward(win, cache, {}, fo);
  }
  auto const cal = collect_statistics(s->model, w);
  REQUIRE(cal.stats.size() == static_cast<std::size_t>(s->model.config().n_layers) * 4);
  for (auto const& st : cal.stats) {
    CAPTURE(short_name(st.id));
    CHECK(
        st.ratio == doctest::Approx(reference_ratio(raw.at(st.id), cols.at(st.id))).epsilon(1e-9));
    CHECK(st.seq_ratio.size() == w.size());
  }
  // The data notes: layer 0's down input shows a mild BOS spike (about 3.7x the median).
  auto const& l0down = *std::find_if(cal.stats.begin(), cal.stats.end(), [](auto const& x) {
    return x.id == ModuleId{0, ModuleKind::kDown, -1};
  });
  CHECK(l0down.top_tokens.front().position == 0);
  CHECK(l0down.ratio > 2.0);
  CHECK(l0down.ratio < 10.0);
}

TEST_CASE("stories260K with planted spikes: W8A8 degrades, QFeM and QFeP find and repair them") {
  auto* s = spikequant_test::stories();
  if (s == nullptr) {
    MESSAGE("shared data absent: skipped");
    return;
  }
  auto const& model = s->model;
  int const dot = s->tokenizer.piece_to_id(".");
  REQUIRE(dot > 0);
  PlantedSpikesHook hook(
      {.factor = 1000.0f, .token = dot, .bos_id = 1, .layers = {}}, model.config().n_layers);
  auto const calib = windows(0, 8);
  std::span<int const> const eval =
      std::span<int const>(s->tokens).subspan(8 * (kSeqLen - 1), 8 * (kSeqLen - 1));

  static llama::QuantPlan const fp;
  double const float_plain = evaluate_ppl(model, eval, kSeqLen, fp).ppl;
  double const float_planted = evaluate_ppl(model, eval, kSeqLen, fp, nullptr, &hook).ppl;
  CHECK(float_planted == doctest::Approx(float_plain).epsilon(1e-4));  // float unchanged

  auto const w8a8 = make_plan(ActScheme::kPerTensor, {});
  double const q_plain = evaluate_ppl(model, eval, kSeqLen, w8a8).ppl;
  double const q_planted = evaluate_ppl(model, eval, kSeqLen, w8a8, nullptr, &hook).ppl;
  MESSAGE("float " << float_plain << ", AQ2 " << q_plain << ", AQ2 planted " << q_planted);
  CHECK(q_plain < float_plain * 1.05);
  CHECK(q_planted > float_plain * 1.5);  // clear degradation

  SharedCalibration shared{collect_statistics(model, calib, {nullptr, &hook, {}}), std::nullopt};
  // QFeM auto: exactly the planted modules.
  MethodOptions qfem;
  qfem.scheme = ActScheme::kPerTensor;
  qfem.qfem_alpha = std::numeric_limits<double>::quiet_NaN();
  qfem.seq_len = kSeqLen;
  auto const r1 = run_method(model, shared, calib, eval, qfem, &hook);
  CHECK(r1.excluded == std::set<ModuleId>{{0, ModuleKind::kDown, -1}, {4, ModuleKind::kDown, -1}});
  CHECK(r1.excluded_groups == 2);
  REQUIRE(r1.search.has_value());
  CHECK(r1.search->within_tolerance);
  CHECK(r1.search->evaluations <= 8);
  CHECK(r1.ppl < float_plain * 1.05);
  // QFeP auto: the planted token; its prefix removes the later spikes.
  MethodOptions qfep;
  qfep.scheme = ActScheme::kPerTensor;
  qfep.qfep = true;
  qfep.seq_len = kSeqLen;
  auto const r2 = run_method(model, shared, calib, eval, qfep, &hook);
  REQUIRE(r2.qfep.has_value());
  CHECK(
      (r2.qfep->module == ModuleId{0, ModuleKind::kDown, -1} ||
       r2.qfep->module == ModuleId{4, ModuleKind::kDown, -1}));
  CHECK(r2.prefix.size() == 3);
  CHECK(r2.prefix[2] == dot);
  MESSAGE(
      "QFeM " << r1.ppl << " alpha " << *r1.alpha << "; QFeP " << r2.ppl << " float+prefix "
              << r2.float_ppl_with_prefix);
  CHECK(r2.ppl < r2.float_ppl_with_prefix * 1.05);
  // AQ3 static with both.
  MethodOptions both = qfem;
  both.scheme = ActScheme::kStatic;
  both.qfep = true;
  auto const r3 = run_method(model, shared, calib, eval, both, &hook);
  MESSAGE("AQ3 both " << r3.ppl);
  CHECK(r3.ppl < r3.float_ppl_with_prefix * 1.10);
}

TEST_CASE("stories260K: SmoothQuant folding leaves the float logits unchanged") {
  auto* s = spikequant_test::stories();
  if (s == nullptr) {
    MESSAGE("shared data absent: skipped");
    return;
  }
  auto const calib = windows(0, 2);
  auto const cal = collect_statistics(s->model, calib);
  auto const sm = smoothquant_factors(s->model.weights(), cal.channels, 0.8f);
  for (auto const& l : sm.layers) {
    CHECK(l.attn.size() == static_cast<std::size_t>(s->model.config().dim));
    CHECK(l.ffn.size() == static_cast<std::size_t>(s->model.config().dim));
  }
  // factors differ from 1 (something was migrated)
  CHECK(std::any_of(sm.layers[0].attn.begin(), sm.layers[0].attn.end(), [](float f) {
    return std::fabs(f - 1.0f) > 0.1f;
  }));
  llama::Model smoothed(apply_smoothing(s->model.weights(), sm));
  auto const& w = calib[1];
  auto c1 = s->model.make_cache(kSeqLen);
  auto c2 = smoothed.make_cache(kSeqLen);
  auto const a = s->model.forward_all(w, c1);
  auto const b = smoothed.forward_all(w, c2);
  REQUIRE(a.size() == b.size());
  double max_err = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    max_err =
        std::max(max_err, std::fabs(static_cast<double>(a[i]) - b[i]) / (1.0 + std::fabs(a[i])));
  }
  CHECK(max_err < 1e-4);
  // the smoothed inputs of q are flatter: per-channel max spread shrinks
  auto const cal2 = collect_statistics(smoothed, calib);
  auto spread = [](std::vector<float> const& v) {
    auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    return *mx / std::max(*mn, 1e-6f);
  };
  ModuleId const q0{0, ModuleKind::kQ, -1};
  CHECK(spread(cal2.channels.absmax(q0)) < spread(cal.channels.absmax(q0)));
}
