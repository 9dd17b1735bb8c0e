// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file SmoothQuant for a llama::Weights: factors from calibration statistics and folding
//! into the RMSNorm gains and the sibling weights. Host only.
//!
//! - Only the inputs that a RMSNorm produces are smoothed: {q,k,v} through attn_norm and
//!   {gate,up} through ffn_norm, as SmoothQuant's reference code does for LLaMA. The inputs of
//!   `o` and `down` have no preceding elementwise op to absorb 1/s and are left alone.
//! - s_j = max|X_j|^a / max|W_j|^(1-a), a = 0.8 by default (the QFeM/QFeP reference code's
//!   value for these models); max|W_j| is over all sibling weights (cpu::smoothquant_factors).
//! - Combined with QFeM: a group in the excluded set (runs W8A16) is not smoothed (factors
//!   stay 1).
//! - MoE FFN (Mixtral): ffn_norm feeds the router and every expert's {gate,up}, so one set of
//!   factors serves them all, as SmoothQuant's reference code does for Mixtral: max|X_j| over
//!   all tokens (the maximum over the experts' routed rows; every token reaches an expert),
//!   max|W_j| over the router and every expert's gate and up, folded into ffn_norm, the router
//!   (which stays float; its logits are unchanged up to rounding) and every expert. The layer is
//!   not smoothed when every expert's {gate,up} is excluded. Combined with QFeP: collect the
//!   activation maxima with the prefix cache present (the observer then never sees the prefix's
//!   spikes); this header only does the math.
#pragma once

#include "spikequant/calib/stats.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/cpu/smoothquant.hpp"
#include "spikequant/model/weights.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <span>
#include <vector>

namespace spikequant::inline v0::calib {

//! Smoothing factors of one layer; an empty vector means "not smoothed".
struct LayerSmoothing {
  std::vector<float> attn;  //!< dim factors for the q/k/v input (folded into attn_norm)
  std::vector<float> ffn;   //!< dim factors for the gate/up input (folded into ffn_norm)
  friend bool operator==(LayerSmoothing const&, LayerSmoothing const&) = default;
};

//! Smoothing factors of a model.
struct Smoothing {
  float alpha = 0.8f;
  std::vector<LayerSmoothing> layers;
  friend bool operator==(Smoothing const&, Smoothing const&) = default;
};

//! The per-channel activation maxima a SmoothQuant calibration needs: the inputs of q and up
//! (record them with a ChannelAbsMaxObserver during float calibration forwards).
inline constexpr std::array<ModuleKind, 2> kSmoothedKinds = {ModuleKind::kQ, ModuleKind::kUp};

//! Factors for every layer from the observed per-channel maxima of the q and up inputs.
//! - Layers/groups without a recording, or whose group is in `excluded` (QFeM), get none.
//! @param[in] alpha migration strength a in [0, 1]
inline Smoothing smoothquant_factors(
    llama::Weights const& w,
    ChannelAbsMaxObserver const& acts,
    float alpha = 0.8f,
    std::set<ModuleId> const& excluded = {}) {
  auto const& c = w.config;
  Smoothing out;
  out.alpha = alpha;
  out.layers.resize(static_cast<std::size_t>(c.n_layers));
  std::int64_t const dim = c.dim;
  for (int l = 0; l < c.n_layers; ++l) {
    auto const& lw = w.layers[static_cast<std::size_t>(l)];
    auto& ls = out.layers[static_cast<std::size_t>(l)];
    auto view = [&](std::vector<float> const& m, char const* what) {
      return make_matrix_ref(
          std::span<float const>(m), static_cast<std::int64_t>(m.size()) / dim, dim, what);
    };
    ModuleId const q{l, ModuleKind::kQ, -1};
    if (auto const& xa = acts.absmax(q); !xa.empty() && !excluded.contains(q)) {
      std::array<MatrixRef<float const>, 3> ws = {
          view(lw.wq, "wq"), view(lw.wk, "wk"), view(lw.wv, "wv")};
      ls.attn = cpu::smoothquant_factors(xa, cpu::weight_column_absmax(ws), alpha);
    }
    if (c.n_experts == 0) {
      ModuleId const up{l, ModuleKind::kUp, -1};
      if (auto const& xa = acts.absmax(up); !xa.empty() && !excluded.contains(up)) {
        std::array<MatrixRef<float const>, 2> ws = {
            view(lw.w_gate, "w_gate"), view(lw.w_up, "w_up")};
        ls.ffn = cpu::smoothquant_factors(xa, cpu::weight_column_absmax(ws), alpha);
      }
      continue;
    }
    std::vector<float> xa;  // max over the experts' routed rows = max over all tokens
    bool all_excluded = true;
    for (int e = 0; e < c.n_experts; ++e) {
      ModuleId const up{l, ModuleKind::kUp, e};
      all_excluded = all_excluded && excluded.contains(up);
      auto const& a = acts.absmax(up);
      if (a.empty()) {
        continue;
      }
      xa.resize(a.size(), 0.0f);
      for (std::size_t j = 0; j < a.size(); ++j) {
        xa[j] = std::max(xa[j], a[j]);
      }
    }
    if (xa.empty() || all_excluded) {
      continue;
    }
    std::vector<MatrixRef<float const>> ws = {view(lw.router, "router")};
    for (auto const& ew : lw.experts) {
      ws.push_back(view(ew.w_gate, "expert w_gate"));
      ws.push_back(view(ew.w_up, "expert w_up"));
    }
    ls.ffn = cpu::smoothquant_factors(xa, cpu::weight_column_absmax(ws), alpha);
  }
  return out;
}

//! A copy of `w` with the factors folded in: norm /= s, sibling weight columns *= s.
//! The float model computes the same function (up to rounding).
inline llama::Weights apply_smoothing(llama::Weights w, Smoothing const& s) {
  auto const& c = w.config;
  require(
      s.layers.size() == static_cast<std::size_t>(c.n_layers),
      ErrorKind::kShape,
      "apply_smoothing: factors for ",
      s.layers.size(),
      " layers, model has ",
      c.n_layers);
  std::int64_t const dim = c.dim;
  for (int l = 0; l < c.n_layers; ++l) {
    auto& lw = w.layers[static_cast<std::size_t>(l)];
    auto const& ls = s.layers[static_cast<std::size_t>(l)];
    auto view = [&](std::vector<float>& m, char const* what) {
      return make_matrix_ref(
          std::span<float>(m), static_cast<std::int64_t>(m.size()) / dim, dim, what);
    };
    if (!ls.attn.empty()) {
      std::array<MatrixRef<float>, 3> ws = {
          view(lw.wq, "wq"), view(lw.wk, "wk"), view(lw.wv, "wv")};
      cpu::fold_smoothing(lw.attn_norm, ws, ls.attn);
    }
    if (!ls.ffn.empty() && c.n_experts == 0) {
      std::array<MatrixRef<float>, 2> ws = {view(lw.w_gate, "w_gate"), view(lw.w_up, "w_up")};
      cpu::fold_smoothing(lw.ffn_norm, ws, ls.ffn);
    } else if (!ls.ffn.empty()) {
      std::vector<MatrixRef<float>> ws = {view(lw.router, "router")};
      for (auto& ew : lw.experts) {
        ws.push_back(view(ew.w_gate, "expert w_gate"));
        ws.push_back(view(ew.w_up, "expert w_up"));
      }
      cpu::fold_smoothing(lw.ffn_norm, ws, ls.ffn);
    }
  }
  return w;
}

}  // namespace spikequant::v0::calib
