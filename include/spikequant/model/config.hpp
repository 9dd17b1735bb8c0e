// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama::Config: the shape and conventions of a LLaMA-family model (LLaMA, Mistral,
//! Mixtral, Gemma, llama2.c checkpoints). Readers fill it; the forward reads it.
#pragma once

#include "spikequant/core/activation.hpp"

#include <cstdint>
#include <string>

namespace spikequant::inline v0::llama {

//! How rotary embeddings pair the dimensions of a head.
enum class RopeStyle {
  kInterleaved,  //!< llama2.c: pairs (2i, 2i+1)
  kRotateHalf,   //!< Hugging Face: pairs (i, i + head_dim/2)
};

struct Config {
  std::string family = "llama";  //!< "llama", "mistral", "mixtral", "gemma", "llama2c"
  int dim = 0;                   //!< hidden size
  int hidden_dim = 0;            //!< FFN intermediate size (of each expert in a MoE model)
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;  //!< grouped-query attention: n_heads % n_kv_heads == 0
  int head_dim = 0;    //!< usually dim / n_heads (Gemma may differ)
  int vocab_size = 0;
  int max_seq_len = 0;
  //! Sliding-window attention (Mistral): a query at position p sees keys p - W + 1 .. p.
  //! 0: every earlier position (LLaMA, Gemma, llama2.c).
  int sliding_window = 0;
  //! Sparse mixture-of-experts FFN (Mixtral): experts per layer. 0: a dense FFN.
  int n_experts = 0;
  //! MoE: experts each token is routed to (top-k of the router's softmax), in
  //! [1, n_experts]; 0 when dense.
  int experts_per_token = 0;
  float rope_theta = 10000.0f;
  float norm_eps = 1e-5f;
  RopeStyle rope = RopeStyle::kRotateHalf;
  GluKind activation = GluKind::kSwiGlu;  //!< the gate activation of the FFN
  bool tied_embeddings = true;            //!< lm_head shares the embedding matrix
  //! Multiplies the embedding output (Gemma: sqrt(dim)); 1 elsewhere.
  float embedding_scale = 1.0f;
  //! Token ids of BOS / EOS (llama2.c and LLaMA: 1 and 2).
  int bos_id = 1;
  int eos_id = 2;
};

}  // namespace spikequant::v0::llama
