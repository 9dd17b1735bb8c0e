// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Llama-architecture GGUF files (general.architecture "llama", e.g. SmolLM2, TinyLlama,
//! Llama 2/3 as converted by llama.cpp) into llama::Weights, the same float layout the
//! Hugging Face and llama2.c readers produce, so the forward needs nothing GGUF-specific.
//!
//! Tensor names are llama.cpp's (token_embd, blk.N.attn_q, ..., output_norm, output); their
//! ggml shapes list the row length first, so a Hugging Face [out, in] weight has ne = {in, out}
//! and converts row-major as is. attn_q / attn_k rows are put back in Hugging Face's
//! rotate-half order (io::unpermute_llama_qk), as transformers does when it loads a GGUF.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"
#include "spikequant/io/gguf.hpp"
#include "spikequant/io/gguf_permute.hpp"
#include "spikequant/model/weights.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace spikequant::inline v0::io {

namespace detail {

//! A positive int metadata value (kFormat naming the key when absent, not an integer, or
//! outside [1, INT_MAX]); `fallback` when absent and given.
inline int gguf_positive_int(Gguf const& g, std::string const& key, int fallback = 0) {
  if (!g.contains(key) && fallback > 0) {
    return fallback;
  }
  auto const v = g.get_int(key);
  require(
      v > 0 && v <= std::numeric_limits<int>::max(),
      ErrorKind::kFormat,
      g.source(),
      ": metadata '",
      key,
      "' = ",
      v,
      " must be in [1, ",
      std::numeric_limits<int>::max(),
      "]");
  return static_cast<int>(v);
}

//! A finite float metadata value, `fallback` when absent (NaN: required).
inline float gguf_float(Gguf const& g, std::string const& key, float fallback) {
  if (!g.contains(key) && !std::isnan(fallback)) {
    return fallback;
  }
  double const v = g.get_float(key);
  require(
      std::isfinite(v) && std::abs(v) <= std::numeric_limits<float>::max(),
      ErrorKind::kFormat,
      g.source(),
      ": metadata '",
      key,
      "' = ",
      v,
      " is not a finite float");
  return static_cast<float>(v);
}

inline std::string gguf_ne_string(std::vector<std::int64_t> const& ne) {
  std::string s = "{";
  for (std::size_t i = 0; i < ne.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(ne[i]);
  }
  return s + "}";
}

}  // namespace detail

//! The llama::Config of a Llama-architecture GGUF, from its metadata:
//! llama.block_count, embedding_length, feed_forward_length, attention.head_count,
//! attention.head_count_kv (default head_count), attention.layer_norm_rms_epsilon,
//! rope.freq_base (default 10000), rope.dimension_count (head_dim; default dim / heads),
//! context_length (default 2048), vocab_size (else the length of tokenizer.ggml.tokens, else
//! token_embd's rows); tied_embeddings when there is no output.weight; BOS / EOS from
//! tokenizer.ggml.bos_token_id / eos_token_id (defaults 1, 2).
//! @throws Error kUnsupported for another architecture, experts (MoE), RoPE scaling or a
//! partial rotary dimension; kFormat for missing or malformed keys.
inline llama::Config gguf_llama_config(Gguf const& g) {
  std::string const arch =
      g.contains("general.architecture") ? g.get_string("general.architecture") : "";
  require(
      arch == "llama",
      ErrorKind::kUnsupported,
      g.source(),
      ": general.architecture '",
      arch,
      "' is not supported by the Llama GGUF loader (llama only)");
  auto key = [](std::string_view k) { return "llama." + std::string(k); };
  llama::Config c;
  c.family = "llama";
  c.n_layers = detail::gguf_positive_int(g, key("block_count"));
  c.dim = detail::gguf_positive_int(g, key("embedding_length"));
  c.hidden_dim = detail::gguf_positive_int(g, key("feed_forward_length"));
  c.n_heads = detail::gguf_positive_int(g, key("attention.head_count"));
  c.n_kv_heads = detail::gguf_positive_int(g, key("attention.head_count_kv"), c.n_heads);
  require(
      c.n_heads % c.n_kv_heads == 0,
      ErrorKind::kFormat,
      g.source(),
      ": head_count ",
      c.n_heads,
      " is not a multiple of head_count_kv ",
      c.n_kv_heads);
  require(
      g.contains(key("rope.dimension_count")) || c.dim % c.n_heads == 0,
      ErrorKind::kFormat,
      g.source(),
      ": embedding_length ",
      c.dim,
      " is not a multiple of head_count ",
      c.n_heads);
  c.head_dim = detail::gguf_positive_int(g, key("rope.dimension_count"), c.dim / c.n_heads);
  if (g.contains(key("attention.key_length"))) {
    // A rotary dimension below the head size (partial RoPE) is not what the forward does.
    require(
        detail::gguf_positive_int(g, key("attention.key_length")) == c.head_dim,
        ErrorKind::kUnsupported,
        g.source(),
        ": attention.key_length differs from rope.dimension_count (partial RoPE)");
  }
  require(
      c.head_dim % 2 == 0,
      ErrorKind::kFormat,
      g.source(),
      ": head dimension ",
      c.head_dim,
      " is odd");
  c.max_seq_len = detail::gguf_positive_int(g, key("context_length"), 2048);
  c.rope_theta = detail::gguf_float(g, key("rope.freq_base"), 10000.0f);
  require(c.rope_theta > 0.0f, ErrorKind::kFormat, g.source(), ": rope.freq_base must be > 0");
  c.norm_eps = detail::gguf_float(g, key("attention.layer_norm_rms_epsilon"), NAN);
  require(
      c.norm_eps >= 0.0f, ErrorKind::kFormat, g.source(), ": layer_norm_rms_epsilon must be >= 0");
  if (g.contains(key("expert_count"))) {
    require(
        g.get_int(key("expert_count")) == 0,
        ErrorKind::kUnsupported,
        g.source(),
        ": mixture-of-experts Llama GGUF files are not supported");
  }
  if (g.contains(key("rope.scaling.type"))) {
    auto const& s = g.get_string(key("rope.scaling.type"));
    require(
        s == "none",
        ErrorKind::kUnsupported,
        g.source(),
        ": rope.scaling.type '",
        s,
        "' is not supported");
  }
  auto const* embd = g.find_tensor("token_embd.weight");
  if (g.contains(key("vocab_size"))) {
    c.vocab_size = detail::gguf_positive_int(g, key("vocab_size"));
  } else if (g.contains("tokenizer.ggml.tokens")) {
    auto const n = g.get_array<std::string>("tokenizer.ggml.tokens").size();
    require(
        n > 0 && n <= static_cast<std::size_t>(std::numeric_limits<int>::max()),
        ErrorKind::kFormat,
        g.source(),
        ": tokenizer.ggml.tokens has ",
        n,
        " entries");
    c.vocab_size = static_cast<int>(n);
  } else {
    require(
        embd != nullptr && embd->ne.size() == 2 && embd->ne[1] > 0 &&
            embd->ne[1] <= std::numeric_limits<int>::max(),
        ErrorKind::kFormat,
        g.source(),
        ": no vocabulary size (llama.vocab_size, tokenizer.ggml.tokens or token_embd.weight)");
    c.vocab_size = static_cast<int>(embd->ne[1]);
  }
  c.rope = llama::RopeStyle::kRotateHalf;  // after unpermute_llama_qk
  c.activation = GluKind::kSwiGlu;
  c.tied_embeddings = g.find_tensor("output.weight") == nullptr;
  c.embedding_scale = 1.0f;
  auto token_id = [&](std::string const& k, int fallback) {
    if (!g.contains(k)) {
      return fallback;
    }
    auto const v = g.get_int(k);
    require(
        v >= 0 && v < c.vocab_size,
        ErrorKind::kFormat,
        g.source(),
        ": ",
        k,
        " = ",
        v,
        " outside the vocabulary [0, ",
        c.vocab_size,
        ")");
    return static_cast<int>(v);
  };
  c.bos_id = token_id("tokenizer.ggml.bos_token_id", 1);
  c.eos_id = token_id("tokenizer.ggml.eos_token_id", 2);
  return c;
}

//! Builds llama::Weights from a parsed Llama-architecture GGUF (see gguf_llama_config):
//! every tensor's ggml shape is checked (kShape naming it, expected and actual ne), missing
//! tensors give one kFormat error naming up to 8 of them, quantized tensors are dequantized
//! (Gguf::to_float; kUnsupported for a type it cannot convert), attn_q / attn_k un-permuted.
inline llama::Weights load_gguf_llama(Gguf const& g) {
  llama::Weights w;
  w.config = gguf_llama_config(g);
  auto const& c = w.config;
  std::int64_t const dim = c.dim;
  std::int64_t const hidden = c.hidden_dim;
  std::int64_t const q_dim = detail::checked_mul(c.n_heads, c.head_dim, "attn_q rows");
  std::int64_t const kv_dim = detail::checked_mul(c.n_kv_heads, c.head_dim, "attn_k rows");
  std::int64_t const vocab = c.vocab_size;
  // Nine tensors per layer: bound the bookkeeping by what the file holds.
  require(
      c.n_layers <= static_cast<std::int64_t>(g.tensors().size()) / 9,
      ErrorKind::kFormat,
      g.source(),
      ": llama.block_count says ",
      c.n_layers,
      " layers but the file holds only ",
      g.tensors().size(),
      " tensors");

  struct Want {
    std::string name;
    std::vector<std::int64_t> ne;  // ggml order: row length first
    std::vector<float>* out;
  };
  std::vector<Want> wants;
  wants.push_back({"token_embd.weight", {dim, vocab}, &w.embedding});
  w.layers.resize(static_cast<std::size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    auto& L = w.layers[static_cast<std::size_t>(l)];
    std::string const p = "blk." + std::to_string(l) + ".";
    wants.push_back({p + "attn_norm.weight", {dim}, &L.attn_norm});
    wants.push_back({p + "attn_q.weight", {dim, q_dim}, &L.wq});
    wants.push_back({p + "attn_k.weight", {dim, kv_dim}, &L.wk});
    wants.push_back({p + "attn_v.weight", {dim, kv_dim}, &L.wv});
    wants.push_back({p + "attn_output.weight", {q_dim, dim}, &L.wo});
    wants.push_back({p + "ffn_norm.weight", {dim}, &L.ffn_norm});
    wants.push_back({p + "ffn_gate.weight", {dim, hidden}, &L.w_gate});
    wants.push_back({p + "ffn_up.weight", {dim, hidden}, &L.w_up});
    wants.push_back({p + "ffn_down.weight", {hidden, dim}, &L.w_down});
  }
  wants.push_back({"output_norm.weight", {dim}, &w.final_norm});
  if (!c.tied_embeddings) {
    wants.push_back({"output.weight", {dim, vocab}, &w.lm_head});
  }

  std::string missing;
  int n_missing = 0;
  for (auto const& want : wants) {
    if (g.find_tensor(want.name) == nullptr && n_missing++ < 8) {
      missing += (missing.empty() ? "'" : ", '") + want.name + "'";
    }
  }
  require(
      n_missing == 0,
      ErrorKind::kFormat,
      g.source(),
      ": ",
      n_missing,
      " missing tensor(s): ",
      missing,
      n_missing > 8 ? ", ..." : "");
  for (auto const& want : wants) {
    auto const& t = g.tensor(want.name);
    require(
        t.ne == want.ne,
        ErrorKind::kShape,
        g.source(),
        ": tensor '",
        want.name,
        "' has ne ",
        detail::gguf_ne_string(t.ne),
        ", expected ",
        detail::gguf_ne_string(want.ne),
        " from the metadata");
    *want.out = g.to_float(t);
  }
  for (auto& L : w.layers) {
    unpermute_llama_qk(L.wq, q_dim, dim, c.n_heads);
    unpermute_llama_qk(L.wk, kv_dim, dim, c.n_kv_heads);
  }
  return w;
}

//! Maps and loads a Llama-architecture .gguf file (kIo if unreadable).
inline llama::Weights load_gguf_llama(std::filesystem::path const& path) {
  return load_gguf_llama(Gguf::open(path));
}

}  // namespace spikequant::v0::io
