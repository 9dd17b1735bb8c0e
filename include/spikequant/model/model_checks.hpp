// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The checks llama::Model runs on what it is given: the weights against the config
//! (once, at construction) and a module id against the model's module table.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/model/config.hpp"
#include "spikequant/model/weights.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace spikequant::inline v0::llama {

//! Throws Error(kInvalidArgument) unless `id` is a module of a model with config `c`
//! (Model::module_ids()).
inline void check_module(Config const& c, ModuleId const& id) {
  bool const ffn =
      id.kind == ModuleKind::kGate || id.kind == ModuleKind::kUp || id.kind == ModuleKind::kDown;
  bool const expert_ok =
      ffn && c.n_experts > 0 ? id.expert >= 0 && id.expert < c.n_experts : !id.is_expert();
  require(
      id.layer >= 0 && id.layer < c.n_layers && expert_ok,
      ErrorKind::kInvalidArgument,
      "module ",
      short_name(id),
      " does not exist in a ",
      c.n_experts > 0 ? "MoE model with " + std::to_string(c.n_experts) + " experts and "
                      : std::string("dense model with "),
      c.n_layers,
      " layers");
}

//! Throws Error (kInvalidArgument for the config, kShape for a weight of the wrong size)
//! unless `weights` describe a model Model can run.
inline void validate_weights(Weights const& weights) {
  Config const& c = weights.config;
  require(
      c.dim > 0 && c.hidden_dim > 0 && c.n_layers > 0 && c.n_heads > 0 && c.n_kv_heads > 0 &&
          c.head_dim > 0 && c.vocab_size > 0,
      ErrorKind::kInvalidArgument,
      "Model: config sizes must be positive (dim ",
      c.dim,
      ", hidden ",
      c.hidden_dim,
      ", layers ",
      c.n_layers,
      ", heads ",
      c.n_heads,
      "/",
      c.n_kv_heads,
      ", head_dim ",
      c.head_dim,
      ", vocab ",
      c.vocab_size,
      ")");
  require(
      c.n_heads % c.n_kv_heads == 0,
      ErrorKind::kInvalidArgument,
      "Model: n_heads ",
      c.n_heads,
      " is not a multiple of n_kv_heads ",
      c.n_kv_heads);
  require(
      c.head_dim % 2 == 0, ErrorKind::kInvalidArgument, "Model: head_dim ", c.head_dim, " is odd");
  require(
      c.sliding_window >= 0,
      ErrorKind::kInvalidArgument,
      "Model: sliding_window must be >= 0 (0: none), got ",
      c.sliding_window);
  require(
      c.n_experts >= 0,
      ErrorKind::kInvalidArgument,
      "Model: n_experts must be >= 0 (0: dense FFN), got ",
      c.n_experts);
  require(
      c.n_experts == 0 || (c.experts_per_token >= 1 && c.experts_per_token <= c.n_experts),
      ErrorKind::kInvalidArgument,
      "Model: experts_per_token must be in [1, n_experts = ",
      c.n_experts,
      "], got ",
      c.experts_per_token);
  auto expect = [](std::vector<float> const& v, std::int64_t n, std::string const& what) {
    require(
        static_cast<std::int64_t>(v.size()) == n,
        ErrorKind::kShape,
        "Model: ",
        what,
        " has ",
        v.size(),
        " floats, expected ",
        n);
  };
  std::int64_t const dim = c.dim;
  std::int64_t const q_dim = std::int64_t{c.n_heads} * c.head_dim;
  std::int64_t const kv_dim = std::int64_t{c.n_kv_heads} * c.head_dim;
  expect(weights.embedding, std::int64_t{c.vocab_size} * dim, "embedding");
  expect(weights.final_norm, dim, "final_norm");
  if (!c.tied_embeddings) {
    expect(weights.lm_head, std::int64_t{c.vocab_size} * dim, "lm_head");
  }
  require(
      static_cast<int>(weights.layers.size()) == c.n_layers,
      ErrorKind::kShape,
      "Model: ",
      weights.layers.size(),
      " layers of weights, config says ",
      c.n_layers);
  for (std::size_t l = 0; l < weights.layers.size(); ++l) {
    LayerWeights const& lw = weights.layers[l];
    std::string const p = "layer " + std::to_string(l) + " ";
    expect(lw.attn_norm, dim, p + "attn_norm");
    expect(lw.ffn_norm, dim, p + "ffn_norm");
    expect(lw.wq, q_dim * dim, p + "wq");
    expect(lw.wk, kv_dim * dim, p + "wk");
    expect(lw.wv, kv_dim * dim, p + "wv");
    expect(lw.wo, dim * q_dim, p + "wo");
    std::int64_t const ffn = std::int64_t{c.hidden_dim} * dim;
    if (c.n_experts == 0) {
      expect(lw.w_gate, ffn, p + "w_gate");
      expect(lw.w_up, ffn, p + "w_up");
      expect(lw.w_down, ffn, p + "w_down");
      require(
          lw.router.empty() && lw.experts.empty(),
          ErrorKind::kShape,
          "Model: ",
          p,
          "has MoE weights (router, experts) but the config has n_experts = 0");
      continue;
    }
    require(
        lw.w_gate.empty() && lw.w_up.empty() && lw.w_down.empty(),
        ErrorKind::kShape,
        "Model: ",
        p,
        "has dense FFN weights but the config has ",
        c.n_experts,
        " experts");
    expect(lw.router, std::int64_t{c.n_experts} * dim, p + "router");
    require(
        lw.experts.size() == static_cast<std::size_t>(c.n_experts),
        ErrorKind::kShape,
        "Model: ",
        p,
        "has ",
        lw.experts.size(),
        " experts, config says ",
        c.n_experts);
    for (std::size_t e = 0; e < lw.experts.size(); ++e) {
      std::string const pe = p + "expert " + std::to_string(e) + " ";
      expect(lw.experts[e].w_gate, ffn, pe + "w_gate");
      expect(lw.experts[e].w_up, ffn, pe + "w_up");
      expect(lw.experts[e].w_down, ffn, pe + "w_down");
    }
  }
}

}  // namespace spikequant::v0::llama
