// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file ModuleId: which linear module of a LLaMA-style block (layer, kind, optional expert),
//! its sibling group, and its Hugging Face name.
#pragma once

#include "spikequant/core/error.hpp"

#include <array>
#include <compare>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace spikequant::inline v0 {

//! The seven linear projections of a pre-LN GLU block.
enum class ModuleKind { kQ, kK, kV, kO, kGate, kUp, kDown };

inline constexpr std::array<ModuleKind, 7> kAllModuleKinds = {
    ModuleKind::kQ,
    ModuleKind::kK,
    ModuleKind::kV,
    ModuleKind::kO,
    ModuleKind::kGate,
    ModuleKind::kUp,
    ModuleKind::kDown};

//! "q", "k", "v", "o", "gate", "up", "down".
inline constexpr std::string_view to_string(ModuleKind kind) noexcept {
  switch (kind) {
  case ModuleKind::kQ:
    return "q";
  case ModuleKind::kK:
    return "k";
  case ModuleKind::kV:
    return "v";
  case ModuleKind::kO:
    return "o";
  case ModuleKind::kGate:
    return "gate";
  case ModuleKind::kUp:
    return "up";
  case ModuleKind::kDown:
    return "down";
  }
  return "?";
}

//! Parses "q".."down" (also "q_proj", "gate_proj", ...); throws Error for anything else.
inline ModuleKind parse_module_kind(std::string_view text) {
  if (text.ends_with("_proj")) {
    text.remove_suffix(5);
  }
  for (ModuleKind k : kAllModuleKinds) {
    if (text == to_string(k)) {
      return k;
    }
  }
  fail(
      ErrorKind::kInvalidArgument,
      "unknown module kind '",
      text,
      "' (expected q, k, v, o, gate, up or down)");
}

//! Modules that read the same input and are always quantized or excluded together:
//! {q, k, v} read the attention RMSNorm output, {gate, up} the FFN RMSNorm output.
inline std::span<ModuleKind const> siblings(ModuleKind kind) noexcept {
  static constexpr std::array<ModuleKind, 3> qkv = {ModuleKind::kQ, ModuleKind::kK, ModuleKind::kV};
  static constexpr std::array<ModuleKind, 2> gate_up = {ModuleKind::kGate, ModuleKind::kUp};
  static constexpr std::array<ModuleKind, 1> o = {ModuleKind::kO};
  static constexpr std::array<ModuleKind, 1> down = {ModuleKind::kDown};
  switch (kind) {
  case ModuleKind::kQ:
  case ModuleKind::kK:
  case ModuleKind::kV:
    return qkv;
  case ModuleKind::kGate:
  case ModuleKind::kUp:
    return gate_up;
  case ModuleKind::kO:
    return o;
  case ModuleKind::kDown:
    return down;
  }
  return down;
}

//! The member that stands for a sibling group in statistics: q, o, up, down.
inline constexpr ModuleKind representative(ModuleKind kind) noexcept {
  switch (kind) {
  case ModuleKind::kQ:
  case ModuleKind::kK:
  case ModuleKind::kV:
    return ModuleKind::kQ;
  case ModuleKind::kGate:
  case ModuleKind::kUp:
    return ModuleKind::kUp;
  case ModuleKind::kO:
    return ModuleKind::kO;
  case ModuleKind::kDown:
    return ModuleKind::kDown;
  }
  return kind;
}

//! The four sibling-group representatives, in block order.
inline constexpr std::array<ModuleKind, 4> kRepresentativeKinds = {
    ModuleKind::kQ, ModuleKind::kO, ModuleKind::kUp, ModuleKind::kDown};

//! One linear module: layer index, kind, and expert index for MoE FFN modules (-1: dense).
struct ModuleId {
  int layer = 0;
  ModuleKind kind = ModuleKind::kQ;
  int expert = -1;

  [[nodiscard]] bool is_expert() const noexcept { return expert >= 0; }
  friend auto operator<=>(ModuleId const&, ModuleId const&) = default;
};

//! Hugging Face parameter prefix (without ".weight"): "model.layers.3.self_attn.q_proj",
//! "model.layers.3.mlp.down_proj"; Mixtral experts: "model.layers.3.block_sparse_moe.experts.2.w2".
inline std::string hf_name(ModuleId const& id) {
  std::string const layer = "model.layers." + std::to_string(id.layer);
  if (id.is_expert()) {
    std::string_view w = id.kind == ModuleKind::kGate ? "w1"
                         : id.kind == ModuleKind::kUp ? "w3"
                                                      : "w2";
    return layer + ".block_sparse_moe.experts." + std::to_string(id.expert) + "." + std::string(w);
  }
  switch (id.kind) {
  case ModuleKind::kQ:
    return layer + ".self_attn.q_proj";
  case ModuleKind::kK:
    return layer + ".self_attn.k_proj";
  case ModuleKind::kV:
    return layer + ".self_attn.v_proj";
  case ModuleKind::kO:
    return layer + ".self_attn.o_proj";
  case ModuleKind::kGate:
    return layer + ".mlp.gate_proj";
  case ModuleKind::kUp:
    return layer + ".mlp.up_proj";
  case ModuleKind::kDown:
    return layer + ".mlp.down_proj";
  }
  return layer;
}

//! Short display name: "L3.down", "L3.e2.down".
inline std::string short_name(ModuleId const& id) {
  // Appends, not "L" + std::to_string(...): GCC 12 raises a false -Wrestrict (PR 105329) on
  // operator+(char const*, std::string&&) at -O2.
  std::string s = "L";
  s += std::to_string(id.layer);
  s += '.';
  if (id.is_expert()) {
    s += 'e';
    s += std::to_string(id.expert);
    s += '.';
  }
  return s + std::string(to_string(id.kind));
}

namespace detail {
//! Parses the leading decimal digits of `text` (at most 6, no leading zero: as std::to_string
//! writes them) into `value` and removes them; false when there are none or they do not fit.
inline bool take_index(std::string_view& text, int& value) {
  std::size_t i = 0;
  value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (i == 6 || (i == 1 && text[0] == '0')) {
      return false;
    }
    value = value * 10 + (text[i] - '0');
  }
  text.remove_prefix(i);
  return i > 0;
}
}  // namespace detail

//! Inverse of hf_name: "model.layers.1.mlp.down_proj" and Mixtral's
//! "model.layers.1.block_sparse_moe.experts.2.w2"; nullopt for anything else.
inline std::optional<ModuleId> parse_hf_name(std::string_view name) {
  constexpr std::string_view prefix = "model.layers.";
  if (!name.starts_with(prefix)) {
    return std::nullopt;
  }
  name.remove_prefix(prefix.size());
  int layer = 0;
  if (!detail::take_index(name, layer)) {
    return std::nullopt;
  }
  constexpr std::string_view moe = ".block_sparse_moe.experts.";
  if (name.starts_with(moe)) {
    name.remove_prefix(moe.size());
    int expert = 0;
    if (!detail::take_index(name, expert)) {
      return std::nullopt;
    }
    if (name == ".w1") {
      return ModuleId{layer, ModuleKind::kGate, expert};
    }
    if (name == ".w3") {
      return ModuleId{layer, ModuleKind::kUp, expert};
    }
    if (name == ".w2") {
      return ModuleId{layer, ModuleKind::kDown, expert};
    }
    return std::nullopt;
  }
  std::string const rest(name);
  for (ModuleKind k : kAllModuleKinds) {
    ModuleId const id{layer, k, -1};
    if (hf_name(id) == "model.layers." + std::to_string(layer) + rest) {
      return id;
    }
  }
  return std::nullopt;
}

}  // namespace spikequant::v0
