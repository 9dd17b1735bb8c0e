// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama::QuantPlan: how each linear module of a model runs (float, W8A16 or W8A8 with
//! an activation scheme and, for static schemes, its calibrated scale), plus the optional BMM
//! quantization of the attention products. QFeM edits a plan with `exclude(filter, infos)`;
//! static calibration fills it with `set_static_scale`.
#pragma once

#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/exclude.hpp"
#include "spikequant/core/linear_mode.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/core/numeric.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace spikequant::inline v0::llama {

//! The run-time description of one module.
//! - `act` and `static_scale` only matter when mode == kW8A8.
//! - `static_scale` (absmax / 127 from calibration) is required when act == kStatic; 0 means
//!   "not calibrated" and makes the forward throw for that module.
struct ModuleQuant {
  LinearMode mode = LinearMode::kFloat;
  ActScheme act = ActScheme::kPerToken;
  float static_scale = 0.0f;

  [[nodiscard]] bool needs_int8_weight() const noexcept { return mode != LinearMode::kFloat; }
  friend bool operator==(ModuleQuant const&, ModuleQuant const&) = default;
};

//! "fp32", "w8a16", "w8a8-per-token", "w8a8-per-tensor", "w8a8-static(0.0123)".
inline std::string to_string(ModuleQuant const& q) {
  if (q.mode != LinearMode::kW8A8) {
    return std::string(to_string(q.mode));
  }
  std::string s(to_string(q.act));
  if (q.act == ActScheme::kStatic) {
    std::ostringstream o;
    o << "(" << q.static_scale << ")";
    s += o.str();
  }
  return s;
}

//! "off", "per-tensor", "per-token": the names of a BMM quantization setting (QuantPlan::bmm)
//! on the command line (`eval --bmm`) and in recipes (short_name of the scheme).
inline constexpr std::string_view bmm_name(std::optional<ActScheme> bmm) noexcept {
  return bmm ? short_name(*bmm) : "off";
}

//! Parses bmm_name's names ("off" is nullopt; the others as parse_act_scheme). Throws
//! Error(kInvalidArgument) for anything else, a static scheme included (BMM quantization has
//! only dynamic scales).
inline std::optional<ActScheme> parse_bmm(std::string_view s) {
  if (s == "off") {
    return std::nullopt;
  }
  std::optional<ActScheme> const scheme = try_parse_act_scheme(s);
  require(
      scheme && *scheme != ActScheme::kStatic,
      ErrorKind::kInvalidArgument,
      "unknown BMM quantization '",
      s,
      "' (expected off, per-tensor or per-token; static scales are not supported)");
  return scheme;
}

//! Maps every ModuleId to a ModuleQuant: one default, per-module mode overrides, and
//! per-module static scales (kept apart so that excluding a module keeps its scale).
//! - BMM quantization (paper appendix B; SmoothQuant's fake_quant `quantize_bmm_input=True`),
//!   off by default, independent of how q/k/v themselves run: with `set_bmm(scheme)` the
//!   OUTPUTS of q_proj, k_proj and v_proj (after ModuleHook::after) are fake-quantized
//!   (cpu::quantize_dynamic to int8, then dequantized to float) with a dynamic scale, before
//!   RoPE and before the keys/values enter the KV cache, so cached keys/values are the
//!   dequantized values of the forward that produced them. kPerTensor (the paper's choice):
//!   one scale over the whole (tokens, features) output of that projection in that forward
//!   (so a T-token prefill and T one-token decodes quantize differently); kPerToken: one
//!   scale per row. Static scales are rejected. A QFeP prefix (make_prefix runs a float plan)
//!   stays unquantized.
//! - A plan is a plain value: copy it, edit it, hand it to Model::set_plan or to one forward
//!   through ForwardOptions::plan. Weights are quantized by the model, not by the plan.
//! Snippet:
//! @code
//! auto plan = llama::QuantPlan::uniform(LinearMode::kW8A8, ActScheme::kPerTensor);
//! plan.exclude(ratio_above(6.68), infos);   // QFeM: r(m) > alpha -> W8A16, siblings too
//! model.set_plan(plan);
//! @endcode
class QuantPlan {
public:
  //! All modules float.
  QuantPlan() = default;
  explicit QuantPlan(ModuleQuant default_quant)
      : default_(default_quant) {}

  //! Every module in `mode` (with activation scheme `act` for kW8A8).
  static QuantPlan uniform(LinearMode mode, ActScheme act = ActScheme::kPerToken) {
    return QuantPlan(ModuleQuant{mode, act, 0.0f});
  }
  //! Every module W8A8 with activation scheme `act`.
  static QuantPlan w8a8(ActScheme act) { return uniform(LinearMode::kW8A8, act); }
  //! Every module float (same as QuantPlan{}).
  static QuantPlan float32() { return {}; }

  //! The effective description of module `id`.
  [[nodiscard]] ModuleQuant get(ModuleId const& id) const {
    auto it = overrides_.find(id);
    ModuleQuant q = it == overrides_.end() ? default_ : it->second;
    if (auto s = static_scales_.find(id); s != static_scales_.end()) {
      q.static_scale = s->second;
    }
    return q;
  }
  [[nodiscard]] ModuleQuant operator[](ModuleId const& id) const { return get(id); }

  [[nodiscard]] ModuleQuant const& default_quant() const noexcept { return default_; }
  void set_default(ModuleQuant q) noexcept { default_ = q; }

  //! Overrides mode and act of one module (its static scale, if any, is kept).
  void set(ModuleId const& id, ModuleQuant q) {
    overrides_[id] = q;
    if (q.static_scale > 0.0f) {
      set_static_scale(id, q.static_scale);
    }
  }
  //! Overrides only the mode of one module.
  void set_mode(ModuleId const& id, LinearMode mode) {
    ModuleQuant q = get(id);
    q.mode = mode;
    overrides_[id] = q;
  }
  //! Sets `mode` on `id` and all its siblings ({q,k,v}, {gate,up}) of the same layer/expert.
  void set_mode_with_siblings(ModuleId const& id, LinearMode mode) {
    for (ModuleKind k : siblings(id.kind)) {
      set_mode(ModuleId{id.layer, k, id.expert}, mode);
    }
  }

  //! QFeM: every module whose info matches `filter` runs in `mode` (default W8A16), expanded
  //! to its siblings. `infos` usually comes from calibration (ratio filled for the
  //! representatives q, o, up, down) or Model::module_infos() (ratio NaN).
  //! @return the modules changed, siblings included, sorted, without duplicates.
  std::vector<ModuleId> exclude(
      ModuleFilter const& filter,
      std::span<ModuleInfo const> infos,
      LinearMode mode = LinearMode::kW8A16) {
    std::map<ModuleId, bool> changed;
    for (ModuleInfo const& info : infos) {
      if (!filter(info)) {
        continue;
      }
      for (ModuleKind k : siblings(info.id.kind)) {
        ModuleId const sib{info.id.layer, k, info.id.expert};
        set_mode(sib, mode);
        changed[sib] = true;
      }
    }
    std::vector<ModuleId> out;
    out.reserve(changed.size());
    for (auto const& [id, unused] : changed) {
      out.push_back(id);
    }
    return out;
  }

  //! Static per-tensor scale of one module (absmax / 127). Must be finite and > 0.
  void set_static_scale(ModuleId const& id, float scale) {
    require(
        is_finite(scale) && scale > 0.0f,
        ErrorKind::kInvalidArgument,
        "QuantPlan::set_static_scale: scale of ",
        short_name(id),
        " must be finite and > 0, got ",
        scale);
    static_scales_[id] = scale;
  }
  //! Sets many static scales at once (e.g. the result of calibrate_static_scales).
  void set_static_scales(std::map<ModuleId, float> const& scales) {
    for (auto const& [id, s] : scales) {
      set_static_scale(id, s);
    }
  }

  [[nodiscard]] std::map<ModuleId, ModuleQuant> const& overrides() const noexcept {
    return overrides_;
  }
  [[nodiscard]] std::map<ModuleId, float> const& static_scales() const noexcept {
    return static_scales_;
  }
  //! True when any module among `ids` runs W8A8 with static scales.
  [[nodiscard]] bool uses_static(std::span<ModuleId const> ids) const {
    for (ModuleId const& id : ids) {
      ModuleQuant const q = get(id);
      if (q.mode == LinearMode::kW8A8 && q.act == ActScheme::kStatic) {
        return true;
      }
    }
    return false;
  }
  //! The modules among `ids` that run in `mode`.
  [[nodiscard]] std::vector<ModuleId>
  modules_in(std::span<ModuleId const> ids, LinearMode mode) const {
    std::vector<ModuleId> out;
    for (ModuleId const& id : ids) {
      if (get(id).mode == mode) {
        out.push_back(id);
      }
    }
    return out;
  }

  //! BMM quantization of the q/k/v outputs (see the class comment): nullopt (off, the
  //! default), kPerTensor or kPerToken. Throws Error(kInvalidArgument) for kStatic.
  void set_bmm(std::optional<ActScheme> scheme) {
    require(
        !scheme || *scheme != ActScheme::kStatic,
        ErrorKind::kInvalidArgument,
        "QuantPlan::set_bmm: static BMM quantization is not supported (use per-tensor or "
        "per-token dynamic scales)");
    bmm_ = scheme;
  }
  [[nodiscard]] std::optional<ActScheme> bmm() const noexcept { return bmm_; }

  //! One line per fact: "default: w8a8-per-tensor", "override L1.down: w8a16", "static
  //! scales: 35 modules", "bmm: per-tensor" (only when on).
  [[nodiscard]] std::string describe() const {
    std::ostringstream o;
    o << "default: " << to_string(default_) << "\n";
    for (auto const& [id, q] : overrides_) {
      o << "override " << short_name(id) << ": " << to_string(get(id)) << "\n";
    }
    if (!static_scales_.empty()) {
      o << "static scales: " << static_scales_.size() << " modules\n";
    }
    if (bmm_) {
      o << "bmm: " << bmm_name(bmm_) << "\n";
    }
    return o.str();
  }

  friend bool operator==(QuantPlan const&, QuantPlan const&) = default;

private:
  ModuleQuant default_{};
  std::map<ModuleId, ModuleQuant> overrides_;
  std::map<ModuleId, float> static_scales_;
  std::optional<ActScheme> bmm_;
};

//! Static scales for MoE expert modules that calibration never routed a token to (they have
//! no measurement): each such expert module among `modules` gets the largest scale of the same
//! layer and kind among the experts that have one (the widest range seen there, so nothing
//! is clipped more than in any measured expert). Dense modules and measured experts are left
//! alone; a layer where no expert has a scale stays without one.
//! @return the expert modules that were filled
inline std::vector<ModuleId>
fill_unrouted_expert_scales(std::map<ModuleId, float>& scales, std::span<ModuleId const> modules) {
  std::map<std::pair<int, ModuleKind>, float> widest;
  for (auto const& [id, s] : scales) {
    if (id.is_expert()) {
      float& w = widest[{id.layer, id.kind}];
      w = std::max(w, s);
    }
  }
  std::vector<ModuleId> filled;
  for (ModuleId const& id : modules) {
    if (!id.is_expert() || scales.contains(id)) {
      continue;
    }
    if (auto it = widest.find({id.layer, id.kind}); it != widest.end() && it->second > 0.0f) {
      scales[id] = it->second;
      filled.push_back(id);
    }
  }
  return filled;
}

}  // namespace spikequant::v0::llama
