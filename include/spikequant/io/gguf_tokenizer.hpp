// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The tokenizer embedded in a GGUF file's metadata, for tokenizer.ggml.model "gpt2"
//! (byte-level BPE): tokenizer.ggml.tokens, token_type, merges, bos / eos / unknown ids,
//! add_bos_token / add_eos_token, and the pre-tokenizer named by tokenizer.ggml.pre, whose
//! regexes are those of llama.cpp's table (llama-vocab.cpp) for that name.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/bpe_tokenizer.hpp"
#include "spikequant/io/gguf.hpp"
#include "spikequant/io/gguf_spm_tokenizer.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spikequant::inline v0::io {

//! GPT-2's pre-tokenizer regex, in the form Hugging Face tokenizers' ByteLevel uses (llama.cpp
//! drops the final "|\s+", then keeps the unmatched whitespace as a piece anyway: the same
//! split).
inline constexpr std::string_view kGpt2PrePattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

//! Llama 3's (tiktoken cl100k-style) pre-tokenizer regex.
inline constexpr std::string_view kLlama3PrePattern =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

//! The regexes, in order, of the pre-tokenizer llama.cpp names `pre`.
//! Supported: "default", "gpt-2", "gpt2", "mpt", "olmo", "jais" (GPT-2's regex);
//! "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b" (each
//! digit alone, then GPT-2's regex; SmolLM2's tokenizer.json: Digits(individual_digits) then
//! ByteLevel); "llama3", "llama-v3", "llama-bpe" (Llama 3's regex).
//! @throws Error kUnsupported for any other name.
inline std::vector<std::string> gguf_pre_tokenizer_patterns(std::string_view pre) {
  for (std::string_view n : {"default", "gpt-2", "gpt2", "mpt", "olmo", "jais"}) {
    if (pre == n) {
      return {std::string(kGpt2PrePattern)};
    }
  }
  for (std::string_view n :
       {"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"}) {
    if (pre == n) {
      return {R"(\p{N})", std::string(kGpt2PrePattern)};
    }
  }
  for (std::string_view n : {"llama3", "llama-v3", "llama-bpe"}) {
    if (pre == n) {
      return {std::string(kLlama3PrePattern)};
    }
  }
  fail(
      ErrorKind::kUnsupported,
      "tokenizer.ggml.pre '",
      pre,
      "' is not supported (gpt-2 family, smollm family, llama-bpe)");
}

//! The byte-level BPE tokenizer of a GGUF file (tokenizer.ggml.model "gpt2").
//! tokenizer.ggml.pre absent: GPT-2's regex (what transformers' GGUF converter uses);
//! token_type absent: all normal; ids default to none (-1).
//! @throws Error kUnsupported for another tokenizer model ("llama" SentencePiece-style
//! vocabularies: load_gguf_spm_tokenizer) or pre-tokenizer; kFormat for missing or malformed
//! keys.
inline BpeTokenizer load_gguf_tokenizer(Gguf const& g) {
  auto const& src = g.source();
  auto const& model = gguf_tokenizer_model(g);
  require(
      model == "gpt2",
      ErrorKind::kUnsupported,
      src,
      ": tokenizer.ggml.model '",
      model,
      "' is not a byte-level BPE (gpt2) vocabulary",
      model == "llama" ? " (load_gguf_spm_tokenizer reads it)" : "");
  BpeVocab v;
  v.tokens = g.get_array<std::string>("tokenizer.ggml.tokens");
  require(
      g.contains("tokenizer.ggml.merges"),
      ErrorKind::kFormat,
      src,
      ": a gpt2 tokenizer needs tokenizer.ggml.merges");
  v.merges = g.get_array<std::string>("tokenizer.ggml.merges");
  if (g.contains("tokenizer.ggml.token_type")) {
    v.token_types = g.get_array<std::int32_t>("tokenizer.ggml.token_type");
  }
  v.pre_patterns = gguf_pre_tokenizer_patterns(
      g.contains("tokenizer.ggml.pre") ? std::string_view(g.get_string("tokenizer.ggml.pre"))
                                       : std::string_view("gpt-2"));
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
  // Absent: false, as in transformers' GGUF converter (SmolLM2 says false explicitly).
  v.add_bos = flag("tokenizer.ggml.add_bos_token", false);
  v.add_eos = flag("tokenizer.ggml.add_eos_token", false);
  return BpeTokenizer::build(std::move(v), src);
}

}  // namespace spikequant::v0::io
