// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file QFeP (quantization-free prefix) search, as the reference code does it (PAPER.md):
//! module m* = argmax r(m); candidates c = the top token ids by scale at m* over the
//! calibration set (BOS excluded); contexts t = the most frequent calibration tokens; for each
//! (c, t) run [BOS, t, c, t, c] and score s(pos 2) / s(pos 4) at m*; the prefix is
//! [BOS, t*, c*] with the best score. Host only; the model enters through a scorer callable.
//!
//! MoE (Mixtral): when m* is an expert's module, a token's spike lands in whichever experts it
//! is routed to, so the search looks at the layer: candidates come from every expert of m*'s
//! layer and kind (expert_layer_view), and calib::token_scale_scorer scores a token by its
//! largest scale over those experts.
#pragma once

#include "spikequant/calib/stats.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/module.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <span>
#include <vector>

namespace spikequant::inline v0::calib {

//! Options of the prefix search (defaults: the reference code's).
struct QfepOptions {
  int n_candidates = 3;  //!< distinct candidate token ids (largest scales at m*)
  int n_contexts = 200;  //!< most frequent calibration tokens tried as context
  int bos_id = 1;
};

//! One scored (context, candidate) pair.
struct PrefixScore {
  int context = -1;
  int candidate = -1;
  double score = 0.0;  //!< s(pos 2) / s(pos 4)
};

//! What the search found.
struct QfepResult {
  ModuleId module;              //!< m*: the module with the largest r(m)
  std::vector<int> candidates;  //!< candidate ids, largest scale first
  std::vector<int> contexts;    //!< context ids tried, most frequent first
  PrefixScore best;
  std::vector<int> prefix;          //!< [BOS, t*, c*]
  std::vector<PrefixScore> scores;  //!< every pair, in evaluation order
};

//! Token-wise scales at the module for the given token ids (one value per token), e.g. from
//! a float forward with a TokenScaleObserver on that module.
using TokenScaleScorer = std::function<std::vector<float>(std::span<int const> ids)>;

//! The `n` distinct token ids with the largest scale at the module (BOS excluded), largest
//! first; ties: smaller id first.
inline std::vector<int> candidate_tokens(ModuleStats const& stats, int n, int bos_id) {
  std::vector<TokenScale> v;
  for (auto const& [id, ts] : stats.token_max) {
    if (id != bos_id) {
      v.push_back(ts);
    }
  }
  std::stable_sort(v.begin(), v.end(), [](TokenScale const& a, TokenScale const& b) {
    return a.scale > b.scale;
  });
  std::vector<int> out;
  for (std::size_t i = 0; i < v.size() && static_cast<int>(i) < n; ++i) {
    out.push_back(v[i].token);
  }
  return out;
}

//! Scores every (candidate, context) pair with [BOS, t, c, t, c] and keeps the best;
//! candidates outer, contexts inner; ties keep the first pair. Deterministic.
//! A zero scale at position 4 scores +inf when position 2 is positive (a perfect prefix).
inline QfepResult search_prefix(
    ModuleId module,
    std::vector<int> candidates,
    std::vector<int> contexts,
    TokenScaleScorer const& scorer,
    int bos_id) {
  require(
      !candidates.empty() && !contexts.empty(),
      ErrorKind::kInvalidArgument,
      "search_prefix: need at least one candidate and one context token (got ",
      candidates.size(),
      " and ",
      contexts.size(),
      ")");
  QfepResult res;
  res.module = module;
  res.best.score = -std::numeric_limits<double>::infinity();
  for (int c : candidates) {
    for (int t : contexts) {
      std::vector<int> const ids = {bos_id, t, c, t, c};
      auto const s = scorer(ids);
      require(
          s.size() >= 5,
          ErrorKind::kShape,
          "search_prefix: scorer returned ",
          s.size(),
          " scales for 5 tokens");
      double score = 0.0;
      if (s[4] > 0.0f) {
        score = static_cast<double>(s[2]) / static_cast<double>(s[4]);
      } else if (s[2] > 0.0f) {
        score = std::numeric_limits<double>::infinity();
      }
      PrefixScore const ps{t, c, score};
      res.scores.push_back(ps);
      if (ps.score > res.best.score) {
        res.best = ps;
      }
    }
  }
  res.candidates = std::move(candidates);
  res.contexts = std::move(contexts);
  res.prefix = {bos_id, res.best.context, res.best.candidate};
  return res;
}

//! The statistics of `module`, and for a MoE expert's module the per-token maxima
//! (token_max) merged over every expert of the same layer and kind in `stats`.
inline ModuleStats expert_layer_view(std::span<ModuleStats const> stats, ModuleId const& module) {
  ModuleStats out;
  out.id = module;
  for (auto const& s : stats) {
    bool const same = s.id == module || (module.is_expert() && s.id.is_expert() &&
                                         s.id.layer == module.layer && s.id.kind == module.kind);
    if (!same) {
      continue;
    }
    for (auto const& [token, ts] : s.token_max) {
      auto [it, inserted] = out.token_max.try_emplace(token, ts);
      if (!inserted && ts.scale > it->second.scale) {
        it->second = ts;
      }
    }
  }
  return out;
}

//! The full search from calibration statistics and the calibration token sequences.
inline QfepResult search_prefix(
    std::span<ModuleStats const> stats,
    std::span<std::vector<int> const> calibration,
    TokenScaleScorer const& scorer,
    QfepOptions const& options = {}) {
  auto const& top = top_module(stats);
  int const bos[] = {options.bos_id};
  return search_prefix(
      top.id,
      candidate_tokens(expert_layer_view(stats, top.id), options.n_candidates, options.bos_id),
      most_frequent_tokens(calibration, options.n_contexts, bos),
      scorer,
      options.bos_id);
}

}  // namespace spikequant::v0::calib
