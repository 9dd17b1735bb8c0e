// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama::Weights: float host weights in one canonical layout, whatever file they
//! came from. Matrices are row-major (out_features, in_features), as Hugging Face stores them.
#pragma once

#include "spikequant/model/config.hpp"

#include <vector>

namespace spikequant::inline v0::llama {

//! One expert of a sparse MoE FFN (Mixtral's block_sparse_moe.experts.E): w1 is the gate,
//! w3 the up and w2 the down projection, as in a dense SwiGLU FFN.
struct ExpertWeights {
  std::vector<float> w_gate;  // (hidden_dim, dim)  w1
  std::vector<float> w_up;    // (hidden_dim, dim)  w3
  std::vector<float> w_down;  // (dim, hidden_dim)  w2
};

//! One decoder layer. The FFN is either dense (w_gate, w_up, w_down; config.n_experts == 0)
//! or a sparse MoE (router, experts; config.n_experts > 0); the other one stays empty.
struct LayerWeights {
  std::vector<float> attn_norm;  // (dim)  RMSNorm weight; Gemma's (1 + w) is folded in
  std::vector<float> wq;         // (n_heads * head_dim, dim)
  std::vector<float> wk;         // (n_kv_heads * head_dim, dim)
  std::vector<float> wv;         // (n_kv_heads * head_dim, dim)
  std::vector<float> wo;         // (dim, n_heads * head_dim)
  std::vector<float> ffn_norm;   // (dim)
  std::vector<float> w_gate;     // (hidden_dim, dim)
  std::vector<float> w_up;       // (hidden_dim, dim)
  std::vector<float> w_down;     // (dim, hidden_dim)
  std::vector<float> router;     // (n_experts, dim) block_sparse_moe.gate, float, never quantized
  std::vector<ExpertWeights> experts;  // n_experts
};

struct Weights {
  Config config;
  std::vector<float> embedding;  // (vocab_size, dim)
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm;  // (dim); Gemma's (1 + w) is folded in
  std::vector<float> lm_head;     // (vocab_size, dim); empty when config.tied_embeddings
};

}  // namespace spikequant::v0::llama
