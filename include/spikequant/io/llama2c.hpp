// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Reader for llama2.c checkpoints (legacy 7-int header and the "ak42" version-1 fp32
//! format) into llama::Weights.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"
#include "spikequant/model/weights.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace spikequant::inline v0::io {

//! Magic of llama2.c's versioned format ("ak42" as a little-endian uint32).
inline constexpr std::uint32_t kLlama2cMagic = 0x616b3432u;

namespace detail {

struct Llama2cHeader {
  int dim = 0;
  int hidden_dim = 0;
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int vocab_size = 0;  // always positive here
  int seq_len = 0;
  bool shared_classifier = true;
};

inline Llama2cHeader read_llama2c_dims(ByteCursor& cur) {
  Llama2cHeader h;
  h.dim = cur.read<std::int32_t>("dim");
  h.hidden_dim = cur.read<std::int32_t>("hidden_dim");
  h.n_layers = cur.read<std::int32_t>("n_layers");
  h.n_heads = cur.read<std::int32_t>("n_heads");
  h.n_kv_heads = cur.read<std::int32_t>("n_kv_heads");
  h.vocab_size = cur.read<std::int32_t>("vocab_size");
  h.seq_len = cur.read<std::int32_t>("seq_len");
  return h;
}

inline void validate_llama2c_dims(Llama2cHeader const& h) {
  auto const positive = [](int v, char const* name) {
    require(v > 0, ErrorKind::kFormat, "llama2.c header: ", name, " must be > 0, got ", v);
  };
  positive(h.dim, "dim");
  positive(h.hidden_dim, "hidden_dim");
  positive(h.n_layers, "n_layers");
  positive(h.n_heads, "n_heads");
  positive(h.n_kv_heads, "n_kv_heads");
  positive(h.vocab_size, "vocab_size");
  positive(h.seq_len, "seq_len");
  require(
      h.dim % h.n_heads == 0,
      ErrorKind::kFormat,
      "llama2.c header: dim ",
      h.dim,
      " is not a multiple of n_heads ",
      h.n_heads);
  require(
      h.n_kv_heads <= h.n_heads && h.n_heads % h.n_kv_heads == 0,
      ErrorKind::kFormat,
      "llama2.c header: n_heads ",
      h.n_heads,
      " is not a multiple of n_kv_heads ",
      h.n_kv_heads);
}

inline llama::Config llama2c_config(Llama2cHeader const& h) {
  llama::Config c;
  c.family = "llama2c";
  c.dim = h.dim;
  c.hidden_dim = h.hidden_dim;
  c.n_layers = h.n_layers;
  c.n_heads = h.n_heads;
  c.n_kv_heads = h.n_kv_heads;
  c.head_dim = h.dim / h.n_heads;
  c.vocab_size = h.vocab_size;
  c.max_seq_len = h.seq_len;
  c.rope_theta = 10000.0f;
  c.norm_eps = 1e-5f;
  c.rope = llama::RopeStyle::kInterleaved;
  c.activation = GluKind::kSwiGlu;
  c.tied_embeddings = h.shared_classifier;
  c.embedding_scale = 1.0f;
  c.bos_id = 1;
  c.eos_id = 2;
  return c;
}

//! Float counts of the per-layer tensors, computed with overflow checks.
struct Llama2cSizes {
  std::int64_t embedding, norm, wq, wkv, wo, ffn, freq;
};

inline Llama2cSizes llama2c_sizes(Llama2cHeader const& h) {
  std::int64_t const dim = h.dim;
  std::int64_t const head = h.dim / h.n_heads;
  std::int64_t const kv_dim = checked_mul(head, h.n_kv_heads, "llama2.c kv_dim");
  Llama2cSizes s{};
  s.embedding = checked_mul(h.vocab_size, dim, "llama2.c token_embedding");
  s.norm = dim;
  s.wq = checked_mul(dim, dim, "llama2.c wq");
  s.wkv = checked_mul(dim, kv_dim, "llama2.c wk");
  s.wo = s.wq;
  s.ffn = checked_mul(dim, h.hidden_dim, "llama2.c w1");
  s.freq = checked_mul(h.seq_len, head / 2, "llama2.c freq_cis");
  return s;
}

//! Total float count of a checkpoint (without header), overflow-checked.
inline std::int64_t llama2c_float_count(Llama2cHeader const& h, bool legacy) {
  auto const s = llama2c_sizes(h);
  std::int64_t per_layer = 0;
  for (std::int64_t v : {s.norm, s.wq, s.wkv, s.wkv, s.wo, s.norm, s.ffn, s.ffn, s.ffn}) {
    per_layer = checked_add(per_layer, v, "llama2.c layer size");
  }
  std::int64_t total = checked_mul(per_layer, h.n_layers, "llama2.c layers");
  total = checked_add(total, s.embedding, "llama2.c size");
  total = checked_add(total, s.norm, "llama2.c size");
  if (legacy) {
    total = checked_add(total, checked_mul(s.freq, 2, "llama2.c freq_cis"), "llama2.c size");
  }
  if (!h.shared_classifier) {
    total = checked_add(total, s.embedding, "llama2.c size");
  }
  return total;
}

inline void check_llama2c_size(ByteCursor const& cur, Llama2cHeader const& h, bool legacy) {
  std::int64_t const bytes = checked_mul(llama2c_float_count(h, legacy), 4, "llama2.c size");
  require(
      bytes == cur.remaining(),
      ErrorKind::kFormat,
      "llama2.c: header (dim ",
      h.dim,
      ", hidden_dim ",
      h.hidden_dim,
      ", n_layers ",
      h.n_layers,
      ", n_heads ",
      h.n_heads,
      ", n_kv_heads ",
      h.n_kv_heads,
      ", vocab_size ",
      h.vocab_size,
      ", seq_len ",
      h.seq_len,
      ") implies ",
      bytes,
      " bytes of weights after the header at offset ",
      cur.offset(),
      ", but the file has ",
      cur.remaining());
}

//! Reads `n_layers` consecutive tensors of `count` floats into `member` of each layer.
template <class Member>
void read_per_layer(
    ByteCursor& cur, llama::Weights& w, Member member, std::int64_t count, char const* name) {
  for (auto& layer : w.layers) {
    layer.*member = cur.read_floats(count, name);
  }
}

}  // namespace detail

//! Parses a llama2.c checkpoint held in memory.
//! - Legacy format: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
//!   seq_len; vocab_size < 0 means a separate classifier), then fp32 token_embedding,
//!   rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_cis_real/imag, [wcls].
//! - Version 1 ("ak42" magic, version 1): 256-byte header, fp32 norms first, no freq_cis.
//! - Matrices are stored (out, in) row-major as run.c's `matmul` reads them; w1 -> gate,
//!   w3 -> up, w2 -> down. The byte count must match the header exactly.
//! @throws Error kFormat on any inconsistency, kUnsupported for other format versions.
inline llama::Weights parse_llama2c(std::span<std::byte const> bytes) {
  using detail::ByteCursor;
  ByteCursor cur(bytes, "llama2.c");
  bool legacy = true;
  detail::Llama2cHeader h;
  auto const magic = ByteCursor(bytes, "llama2.c").read<std::uint32_t>("magic");
  if (magic == kLlama2cMagic) {
    legacy = false;
    cur.seek(4);
    auto const version = cur.read<std::int32_t>("version");
    require(
        version == 1,
        ErrorKind::kUnsupported,
        "llama2.c: format version ",
        version,
        " is not supported (only 1: fp32, and the legacy header)");
    h = detail::read_llama2c_dims(cur);
    h.shared_classifier = cur.read<std::uint8_t>("shared_classifier") != 0;
    cur.take(256 - cur.offset(), "the rest of the 256-byte header");
  } else {
    h = detail::read_llama2c_dims(cur);
    h.shared_classifier = h.vocab_size > 0;
    if (h.vocab_size < 0 && h.vocab_size != std::numeric_limits<std::int32_t>::min()) {
      h.vocab_size = -h.vocab_size;
    }
  }
  detail::validate_llama2c_dims(h);
  detail::check_llama2c_size(cur, h, legacy);

  auto const s = detail::llama2c_sizes(h);
  llama::Weights w;
  w.config = detail::llama2c_config(h);
  w.layers.resize(static_cast<std::size_t>(h.n_layers));
  using L = llama::LayerWeights;
  if (legacy) {
    w.embedding = cur.read_floats(s.embedding, "token_embedding");
    detail::read_per_layer(cur, w, &L::attn_norm, s.norm, "rms_att_weight");
    detail::read_per_layer(cur, w, &L::wq, s.wq, "wq");
    detail::read_per_layer(cur, w, &L::wk, s.wkv, "wk");
    detail::read_per_layer(cur, w, &L::wv, s.wkv, "wv");
    detail::read_per_layer(cur, w, &L::wo, s.wo, "wo");
    detail::read_per_layer(cur, w, &L::ffn_norm, s.norm, "rms_ffn_weight");
    detail::read_per_layer(cur, w, &L::w_gate, s.ffn, "w1");
    detail::read_per_layer(cur, w, &L::w_down, s.ffn, "w2");
    detail::read_per_layer(cur, w, &L::w_up, s.ffn, "w3");
    w.final_norm = cur.read_floats(s.norm, "rms_final_weight");
    cur.take(detail::checked_mul(s.freq, 8, "freq_cis"), "freq_cis_real/imag");
  } else {
    detail::read_per_layer(cur, w, &L::attn_norm, s.norm, "attention_norm");
    detail::read_per_layer(cur, w, &L::ffn_norm, s.norm, "ffn_norm");
    w.final_norm = cur.read_floats(s.norm, "norm");
    w.embedding = cur.read_floats(s.embedding, "tok_embeddings");
    detail::read_per_layer(cur, w, &L::wq, s.wq, "wq");
    detail::read_per_layer(cur, w, &L::wk, s.wkv, "wk");
    detail::read_per_layer(cur, w, &L::wv, s.wkv, "wv");
    detail::read_per_layer(cur, w, &L::wo, s.wo, "wo");
    detail::read_per_layer(cur, w, &L::w_gate, s.ffn, "w1");
    detail::read_per_layer(cur, w, &L::w_down, s.ffn, "w2");
    detail::read_per_layer(cur, w, &L::w_up, s.ffn, "w3");
  }
  if (!h.shared_classifier) {
    w.lm_head = cur.read_floats(s.embedding, "wcls");
  }
  return w;
}

//! Loads a llama2.c checkpoint file (see parse_llama2c).
//! @throws Error kIo if the file cannot be read, kFormat if it is malformed.
inline llama::Weights load_llama2c(
    std::filesystem::path const& path, std::int64_t max_file_bytes = kDefaultMaxFileBytes) {
  auto const bytes = detail::read_file(path, max_file_bytes);
  try {
    return parse_llama2c(bytes);
  } catch (Error const& e) {
    throw Error(e.kind(), path.string() + ": " + e.what());
  }
}

}  // namespace spikequant::v0::io
