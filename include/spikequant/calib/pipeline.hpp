// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Calibration on a llama::Model: statistics from float forwards, the model-backed QFeP
//! scorer and prefix, the planted-spike ModuleHook, plans, and the whole method (QFeM, QFeP,
//! SmoothQuant, static scales) evaluated under the perplexity protocol. Host only.
#pragma once

#include "spikequant/calib/plant_spikes.hpp"
#include "spikequant/calib/qfem.hpp"
#include "spikequant/calib/qfep.hpp"
#include "spikequant/calib/recipe.hpp"
#include "spikequant/calib/smoothquant.hpp"
#include "spikequant/calib/stats.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/model/model.hpp"
#include "spikequant/model/perplexity.hpp"
#include "spikequant/model/quant_plan.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

namespace spikequant::inline v0::calib {

//! PlantedSpikes as a llama::ModuleHook (see plant_spikes.hpp): multiplies the spike rows of
//! the chosen layers' down input before the matmul and divides the down output after it.
//! MoE: every expert's down of those layers, on the spike rows routed to that expert.
class PlantedSpikesHook : public llama::ModuleHook {
public:
  PlantedSpikesHook(PlantSpikesOptions options, int n_layers)
      : spikes_(std::move(options), n_layers) {}
  void
  before(ModuleId const& id, MatrixRef<float> input, llama::ForwardContext const& ctx) override {
    if (!spikes_.applies_to(id)) {
      return;
    }
    if (ctx.rows.empty()) {
      rows_ = spikes_.before_down(id, input, ctx.tokens, ctx.start_pos);
      return;
    }
    // An expert's routed rows: the spike rows of the whole chunk that were routed here.
    auto const chunk_rows = spikes_.spike_rows(ctx.tokens, ctx.start_pos);
    rows_ = routed_rows(chunk_rows, ctx.rows);
    spikes_.scale_rows(input, rows_, spikes_.options().factor);
  }
  void after(ModuleId const& id, MatrixRef<float> output, llama::ForwardContext const&) override {
    if (spikes_.applies_to(id)) {
      spikes_.after_down(output, rows_);
      rows_.clear();
    }
  }
  [[nodiscard]] PlantedSpikes& spikes() noexcept { return spikes_; }
  [[nodiscard]] PlantedSpikes const& spikes() const noexcept { return spikes_; }

private:
  //! The input rows r whose forward row ctx_rows[r] is in `chunk_rows` (both ascending).
  static std::vector<std::int64_t>
  routed_rows(std::span<std::int64_t const> chunk_rows, std::span<int const> ctx_rows) {
    std::vector<std::int64_t> out;
    for (std::size_t r = 0; r < ctx_rows.size(); ++r) {
      if (std::binary_search(chunk_rows.begin(), chunk_rows.end(), std::int64_t{ctx_rows[r]})) {
        out.push_back(static_cast<std::int64_t>(r));
      }
    }
    return out;
  }

  PlantedSpikes spikes_;
  std::vector<std::int64_t> rows_;
};

//! Declares a prefix to a hook that tracks token history (PlantedSpikesHook); no-op else.
inline void declare_prefix(llama::ModuleHook* hook, std::span<int const> prefix_ids) {
  if (auto* p = dynamic_cast<PlantedSpikesHook*>(hook)) {
    p->spikes().set_history(prefix_ids);
  }
}

//! The float QFeP prefix: runs `ids` once unquantized (through `hook`, so planted spikes fire
//! inside it) and keeps its KV cache and last logits.
inline llama::Prefix make_prefix(
    llama::Model const& model, std::span<int const> ids, llama::ModuleHook* hook = nullptr) {
  llama::ForwardOptions fo;
  fo.hook = hook;
  auto p = llama::make_prefix(model, ids, fo);
  declare_prefix(hook, ids);
  return p;
}

//! Options of collect_statistics.
struct CollectOptions {
  llama::Prefix const* prefix = nullptr;  //!< windows continue this cache (QFeP)
  llama::ModuleHook* hook = nullptr;      //!< e.g. PlantedSpikesHook
  TokenScaleObserverOptions observer = {};
};

//! What float calibration forwards observed.
struct Calibration {
  //! Representatives q, o, up, down of every layer; MoE: q, o and the up and down of every
  //! expert that some token was routed to (over its routed tokens, see TokenScaleObserver).
  std::vector<ModuleStats> stats;
  ChannelAbsMaxObserver channels;  //!< per-channel absmax of the q and up inputs (per expert)
  std::int64_t tokens = 0;
};

//! Runs every window unquantized (one forward each on a fresh cache, or after the prefix's
//! cache) and records token-wise scales of the representatives and the per-channel maxima
//! SmoothQuant needs. With a prefix, a leading BOS of each window is dropped (the prefix
//! starts with BOS). MoE experts are recorded over the rows routed to them
//! (ForwardContext::rows); a window that routes no token to an expert is skipped for it.
inline Calibration collect_statistics(
    llama::Model const& model,
    std::span<std::vector<int> const> windows,
    CollectOptions const& options = {}) {
  require(!windows.empty(), ErrorKind::kInvalidArgument, "collect_statistics: no windows");
  static llama::QuantPlan const float_plan{};
  Calibration cal;
  TokenScaleObserver obs(options.observer);
  llama::ForwardOptions fo;
  fo.plan = &float_plan;
  fo.hook = options.hook;
  fo.observer =
      [&](ModuleId const& id, MatrixRef<float const> x, llama::ForwardContext const& ctx) {
        if (representative(id.kind) != id.kind) {
          return;
        }
        if (ctx.rows.empty()) {
          obs.record(id, x, 0);
        } else {
          obs.record(id, x, ctx.rows);
        }
        if (id.kind == ModuleKind::kQ || id.kind == ModuleKind::kUp) {
          cal.channels.record(id, x);
        }
      };
  int const bos = model.config().bos_id;
  for (auto const& w : windows) {
    std::span<int const> ids = w;
    if (options.prefix != nullptr && !ids.empty() && ids.front() == bos) {
      ids = ids.subspan(1);
    }
    require(!ids.empty(), ErrorKind::kInvalidArgument, "collect_statistics: empty window");
    int const start = options.prefix != nullptr ? options.prefix->cache.length() : 0;
    llama::KVCache cache = options.prefix != nullptr
                               ? options.prefix->cache.fork(start + static_cast<int>(ids.size()))
                               : model.make_cache(static_cast<int>(ids.size()));
    if (options.prefix != nullptr) {
      declare_prefix(options.hook, options.prefix->ids);
    }
    obs.begin_sequence(ids, start);
    model.forward(ids, cache, {}, fo);
    obs.end_sequence();
    cal.tokens += static_cast<std::int64_t>(ids.size());
  }
  cal.stats = obs.stats();
  return cal;
}

//! Static (AQ3) scales for every module from representative statistics: siblings share the
//! input, so q/k/v get q's and gate/up get up's max / 127. With `modules` (the model's
//! module_ids()), MoE experts that no calibration token was routed to get the widest scale of
//! their layer's experts of the same kind (llama::fill_unrouted_expert_scales), as
//! llama::calibrate_static_scales does.
inline std::map<ModuleId, float>
static_scales(std::span<ModuleStats const> stats, std::span<ModuleId const> modules = {}) {
  std::map<ModuleId, float> out;
  for (auto const& s : stats) {
    for (ModuleKind k : siblings(s.id.kind)) {
      out[ModuleId{s.id.layer, k, s.id.expert}] = scale_from_absmax(s.max);
    }
  }
  llama::fill_unrouted_expert_scales(out, modules);
  return out;
}

//! A plan: every module W8A8 with `scheme`, the `excluded` ones W8A16, static scales set.
inline llama::QuantPlan make_plan(
    ActScheme scheme,
    std::set<ModuleId> const& excluded,
    std::map<ModuleId, float> const& scales = {}) {
  auto plan = llama::QuantPlan::w8a8(scheme);
  for (auto const& id : excluded) {
    plan.set_mode(id, LinearMode::kW8A16);
  }
  plan.set_static_scales(scales);
  return plan;
}

//! QFeP's model-backed scorer: token-wise scales at `module` for ids, from a float forward
//! that stops after module.layer (through `hook`).
//! MoE: when `module` is an expert's, a token's scale is the largest at that kind and layer
//! over the experts it was routed to (every token reaches some expert). The spike must leave
//! the layer, not just move to an expert that the token did not visit during calibration.
inline TokenScaleScorer
token_scale_scorer(llama::Model const& model, ModuleId module, llama::ModuleHook* hook = nullptr) {
  return [&model, module, hook](std::span<int const> ids) {
    static llama::QuantPlan const float_plan{};
    std::vector<float> scales(ids.size(), 0.0f);
    llama::ForwardOptions fo;
    fo.plan = &float_plan;
    fo.hook = hook;
    fo.stop_after_layer = module.layer;
    fo.observer =
        [&](ModuleId const& id, MatrixRef<float const> x, llama::ForwardContext const& ctx) {
          if (!module.is_expert() && id == module) {
            scales = token_scales(x);
          } else if (
              module.is_expert() && id.is_expert() && id.layer == module.layer &&
              id.kind == module.kind) {
            auto const s = token_scales(x);
            for (std::size_t r = 0; r < s.size(); ++r) {
              float& v =
                  scales[static_cast<std::size_t>(ctx.sequence_row(static_cast<std::int64_t>(r)))];
              v = std::max(v, s[r]);
            }
          }
        };
    llama::KVCache cache = model.make_cache(static_cast<int>(ids.size()));
    model.forward(ids, cache, {}, fo);
    return scales;
  };
}

//! Perplexity of `stream` under the protocol with a plan, an optional prefix and a hook.
inline llama::PerplexityResult evaluate_ppl(
    llama::Model const& model,
    std::span<int const> stream,
    int seq_len,
    llama::QuantPlan const& plan,
    llama::Prefix const* prefix = nullptr,
    llama::ModuleHook* hook = nullptr,
    std::int64_t max_tokens = 0) {
  llama::PerplexityOptions po;
  po.seq_len = seq_len;
  po.max_tokens = max_tokens;
  po.forward.plan = &plan;
  po.forward.hook = hook;
  po.prefix = prefix;
  if (prefix != nullptr) {
    declare_prefix(hook, prefix->ids);
  }
  return llama::perplexity(model, stream, po);
}

//! Concatenates windows without their leading BOS: the calibration "stream" that
//! evaluate_ppl cuts back into the same windows (seq_len = window length).
inline std::vector<int> windows_stream(std::span<std::vector<int> const> windows, int bos_id) {
  std::vector<int> s;
  for (auto const& w : windows) {
    auto b = w.begin();
    if (b != w.end() && *b == bos_id) {
      ++b;
    }
    s.insert(s.end(), b, w.end());
  }
  return s;
}

//! The method to apply (one row of the paper's Table 3).
struct MethodOptions {
  ActScheme scheme = ActScheme::kPerTensor;
  //! QFeM: nullopt off; a value: that alpha; NaN: search (search_alpha).
  std::optional<double> qfem_alpha;
  //! QFeP: off / search / the given ids.
  bool qfep = false;
  std::vector<int> qfep_ids;  //!< non-empty: use these ids, no search
  //! SmoothQuant strength a; nullopt: off.
  std::optional<float> smoothquant;
  AlphaSearchOptions search = {};
  QfepOptions qfep_options = {};
  int seq_len = 128;
};

//! What run_method decided and measured.
struct MethodResult {
  double ppl = 0.0;                    //!< quantized, on the eval stream
  double float_ppl_with_prefix = 0.0;  //!< float with the prefix (0 without QFeP)
  std::optional<double> alpha;
  std::set<ModuleId> excluded;
  int excluded_groups = 0;
  int total_groups = 0;
  std::optional<AlphaSearchResult> search;
  std::optional<QfepResult> qfep;
  std::vector<int> prefix;
  Recipe recipe;
};

//! Statistics and prefix search shared by several methods on one model (computed once).
struct SharedCalibration {
  Calibration plain;               //!< float statistics without prefix (r(m), QFeP candidates)
  std::optional<QfepResult> qfep;  //!< filled by ensure_prefix_search
};

//! Runs the QFeP search once and caches it in `shared`.
inline QfepResult const& ensure_prefix_search(
    SharedCalibration& shared,
    llama::Model const& model,
    std::span<std::vector<int> const> calib_windows,
    QfepOptions options,
    llama::ModuleHook* hook = nullptr) {
  if (!shared.qfep) {
    options.bos_id = model.config().bos_id;
    auto const& top = top_module(shared.plain.stats);
    shared.qfep = search_prefix(
        shared.plain.stats, calib_windows, token_scale_scorer(model, top.id, hook), options);
  }
  return *shared.qfep;
}

//! Applies a method and evaluates it (the order is documented in docs/reproduction.md):
//! 1. prefix: given ids or the QFeP search over `shared.plain` statistics, then its float cache;
//! 2. SmoothQuant: per-channel maxima with the prefix present, factors (fixed-alpha QFeM
//!    groups excluded from smoothing), folded into a copy of the weights;
//! 3. static scales (AQ3) from float statistics with the prefix present;
//! 4. QFeM: fixed alpha on the r(m) of `shared.plain`, or search_alpha whose evaluator is the
//!    calibration perplexity (calibration windows, same prefix, same plan otherwise);
//! 5. perplexity of the eval stream with the final plan and prefix.
inline MethodResult run_method(
    llama::Model const& model,
    SharedCalibration& shared,
    std::span<std::vector<int> const> calib_windows,
    std::span<int const> eval_stream,
    MethodOptions const& opt,
    llama::ModuleHook* hook = nullptr) {
  MethodResult res;
  int const bos = model.config().bos_id;
  auto const infos = module_infos(shared.plain.stats);
  res.total_groups = static_cast<int>(infos.size());

  // 1. prefix
  std::optional<llama::Prefix> prefix;
  if (opt.qfep) {
    res.prefix =
        !opt.qfep_ids.empty()
            ? opt.qfep_ids
            : ensure_prefix_search(shared, model, calib_windows, opt.qfep_options, hook).prefix;
    if (opt.qfep_ids.empty()) {
      res.qfep = shared.qfep;
    }
    prefix = make_prefix(model, res.prefix, hook);
  }
  llama::Prefix const* pp = prefix ? &*prefix : nullptr;

  // 2. SmoothQuant
  std::optional<llama::Model> smoothed;
  std::set<ModuleId> fixed_excluded;
  if (opt.qfem_alpha && !std::isnan(*opt.qfem_alpha)) {
    fixed_excluded = qfem_select(infos, *opt.qfem_alpha);
  }
  if (opt.smoothquant) {
    auto const cal = collect_statistics(model, calib_windows, {pp, hook, {}});
    auto const sm =
        smoothquant_factors(model.weights(), cal.channels, *opt.smoothquant, fixed_excluded);
    smoothed.emplace(apply_smoothing(model.weights(), sm));
    res.recipe.smoothing = sm;
    if (prefix) {
      prefix = make_prefix(*smoothed, res.prefix, hook);
      pp = &*prefix;
    }
  }
  llama::Model const& m = smoothed ? *smoothed : model;

  // 3. static scales
  std::map<ModuleId, float> scales;
  if (opt.scheme == ActScheme::kStatic) {
    auto const cal = collect_statistics(m, calib_windows, {pp, hook, {}});
    scales = static_scales(cal.stats, m.module_ids());
  }

  // 4. QFeM
  if (opt.qfem_alpha) {
    if (std::isnan(*opt.qfem_alpha)) {
      auto const calib_stream = windows_stream(calib_windows, bos);
      int const calib_len = static_cast<int>(calib_windows.front().size());
      auto evaluator = [&](std::set<ModuleId> const& ex) {
        auto const plan = make_plan(opt.scheme, ex, scales);
        return evaluate_ppl(m, calib_stream, calib_len, plan, pp, hook).ppl;
      };
      auto s = search_alpha(infos, evaluator, opt.search);
      res.alpha = s.alpha;
      res.excluded = s.modules;
      res.search = std::move(s);
    } else {
      res.alpha = *opt.qfem_alpha;
      res.excluded = fixed_excluded;
    }
  }
  res.excluded_groups = static_cast<int>(group_representatives(res.excluded).size());

  // 5. evaluation
  auto const plan = make_plan(opt.scheme, res.excluded, scales);
  res.ppl = evaluate_ppl(m, eval_stream, opt.seq_len, plan, pp, hook).ppl;
  static llama::QuantPlan const float_plan{};
  if (pp != nullptr) {
    res.float_ppl_with_prefix = evaluate_ppl(m, eval_stream, opt.seq_len, float_plan, pp, hook).ppl;
  }

  res.recipe.scheme = opt.scheme;
  res.recipe.alpha = res.alpha;
  res.recipe.excluded = res.excluded;
  res.recipe.prefix_ids = res.prefix;
  res.recipe.static_scales = scales;
  return res;
}

}  // namespace spikequant::v0::calib
