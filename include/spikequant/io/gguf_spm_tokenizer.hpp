// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The SentencePiece-style tokenizer embedded in a GGUF file (tokenizer.ggml.model
//! "llama": LLaMA 1/2, Gemma): tokenizer.ggml.tokens, scores, token_type, bos / eos / unknown
//! ids, add_space_prefix, add_bos_token / add_eos_token. Needs no regex library.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/gguf.hpp"
#include "spikequant/io/spm_tokenizer.hpp"

#include <cstdint>
#include <string>

namespace spikequant::inline v0::io {

//! The tokenizer.ggml.model of a file ("gpt2", "llama", ...); kFormat when absent.
inline std::string const& gguf_tokenizer_model(Gguf const& g) {
  require(
      g.contains("tokenizer.ggml.model"),
      ErrorKind::kFormat,
      g.source(),
      ": no tokenizer (tokenizer.ggml.model is absent)");
  return g.get_string("tokenizer.ggml.model");
}

//! The SentencePiece-style tokenizer of a GGUF file. Defaults as llama.cpp's for "llama":
//! add_space_prefix true, add_bos_token true, add_eos_token false; token_type absent: all
//! normal. @throws Error kUnsupported for another tokenizer model, kFormat for missing or
//! malformed keys (scores are required).
inline SpmTokenizer load_gguf_spm_tokenizer(Gguf const& g) {
  auto const& src = g.source();
  auto const& model = gguf_tokenizer_model(g);
  require(
      model == "llama",
      ErrorKind::kUnsupported,
      src,
      ": tokenizer.ggml.model '",
      model,
      "' is not a SentencePiece-style (llama) vocabulary");
  SpmVocab v;
  v.tokens = g.get_array<std::string>("tokenizer.ggml.tokens");
  v.scores = g.get_array<float>("tokenizer.ggml.scores");
  if (g.contains("tokenizer.ggml.token_type")) {
    v.token_types = g.get_array<std::int32_t>("tokenizer.ggml.token_type");
  }
  auto id = [&](std::string const& key) -> int {
    if (!g.contains(key)) {
      return -1;
    }
    auto const x = g.get_int(key);
    require(
        x >= 0 && x < static_cast<std::int64_t>(v.tokens.size()),
        ErrorKind::kFormat,
        src,
        ": ",
        key,
        " = ",
        x,
        " outside the vocabulary of ",
        v.tokens.size());
    return static_cast<int>(x);
  };
  v.bos_id = id("tokenizer.ggml.bos_token_id");
  v.eos_id = id("tokenizer.ggml.eos_token_id");
  v.unk_id = id("tokenizer.ggml.unknown_token_id");
  auto flag = [&](std::string const& key, bool fallback) {
    return g.contains(key) ? g.get_bool(key) : fallback;
  };
  v.add_space_prefix = flag("tokenizer.ggml.add_space_prefix", true);
  v.add_bos = flag("tokenizer.ggml.add_bos_token", true);
  v.add_eos = flag("tokenizer.ggml.add_eos_token", false);
  return SpmTokenizer::build(std::move(v), src);
}

}  // namespace spikequant::v0::io
