// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Tokenizer: one value type over llama2.c tokenizer.bin, (when built with
//! SentencePiece) tokenizer.model files, and the vocabulary inside a .gguf file
//! (SentencePiece-style always, byte-level BPE when built with PCRE2), chosen by extension.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/gguf_spm_tokenizer.hpp"
#include "spikequant/io/tokenizer_bin.hpp"

#if defined(SPIKEQUANT_WITH_SENTENCEPIECE)
#  include "spikequant/io/sentencepiece.hpp"
#endif
#if defined(SPIKEQUANT_WITH_PCRE2)
#  include "spikequant/io/gguf_tokenizer.hpp"
#endif

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace spikequant::inline v0::io {

//! A tokenizer of any kind built in, with the operations the tools need.
//! SentencePiece support needs SPIKEQUANT_WITH_SENTENCEPIECE, which linking
//! SentencePiece::SentencePiece (cmake/FindSentencePiece.cmake) defines; GGUF vocabularies
//! need SPIKEQUANT_WITH_PCRE2, defined by linking PCRE2::PCRE2 (cmake/FindPCRE2.cmake).
class Tokenizer {
public:
  using Impl = std::variant<
      BinTokenizer,
      SpmTokenizer
#if defined(SPIKEQUANT_WITH_SENTENCEPIECE)
      ,
      SentencePieceTokenizer
#endif
#if defined(SPIKEQUANT_WITH_PCRE2)
      ,
      BpeTokenizer
#endif
      >;

  explicit Tokenizer(BinTokenizer t)
      : impl_(std::move(t)) {}
  explicit Tokenizer(SpmTokenizer t)
      : impl_(std::move(t)) {}
#if defined(SPIKEQUANT_WITH_SENTENCEPIECE)
  explicit Tokenizer(SentencePieceTokenizer t)
      : impl_(std::move(t)) {}
#endif
#if defined(SPIKEQUANT_WITH_PCRE2)
  explicit Tokenizer(BpeTokenizer t)
      : impl_(std::move(t)) {}
#endif

  [[nodiscard]] int vocab_size() const {
    return std::visit([](auto const& t) { return t.vocab_size(); }, impl_);
  }
  [[nodiscard]] int bos_id() const {
    return std::visit([](auto const& t) { return t.bos_id(); }, impl_);
  }
  [[nodiscard]] int eos_id() const {
    return std::visit([](auto const& t) { return t.eos_id(); }, impl_);
  }
  [[nodiscard]] std::vector<int> encode(std::string_view text, bool bos, bool eos) const {
    return std::visit([&](auto const& t) { return t.encode(text, bos, eos); }, impl_);
  }
  //! Streaming decode of one token after `prev_token` (llama2.c semantics).
  [[nodiscard]] std::string decode(int prev_token, int token) const {
    return std::visit([&](auto const& t) { return t.decode(prev_token, token); }, impl_);
  }
  [[nodiscard]] std::string id_to_piece(int id) const {
    return std::visit([&](auto const& t) { return std::string(t.id_to_piece(id)); }, impl_);
  }
  //! "tokenizer.bin", "gguf-spm", "sentencepiece" or "gguf-bpe".
  [[nodiscard]] std::string_view kind() const noexcept {
    struct Name {
      std::string_view operator()(BinTokenizer const&) const { return "tokenizer.bin"; }
      std::string_view operator()(SpmTokenizer const&) const { return "gguf-spm"; }
#if defined(SPIKEQUANT_WITH_SENTENCEPIECE)
      std::string_view operator()(SentencePieceTokenizer const&) const {
        return "sentencepiece";
      }
#endif
#if defined(SPIKEQUANT_WITH_PCRE2)
      std::string_view operator()(BpeTokenizer const&) const {
        return "gguf-bpe";
      }
#endif
    };
    return std::visit(Name{}, impl_);
  }
  [[nodiscard]] Impl const& impl() const noexcept {
    return impl_;
  }

private:
  Impl impl_;
};

//! Loads a tokenizer by extension: ".bin" -> BinTokenizer, ".model" -> SentencePiece,
//! ".gguf" -> the file's own vocabulary: SentencePiece-style ("llama",
//! io/gguf_spm_tokenizer.hpp) or byte-level BPE ("gpt2", io/gguf_tokenizer.hpp).
//! @throws Error kUnsupported for other extensions, ".model" without SentencePiece or a gpt2
//!         ".gguf" without PCRE2; kIo / kFormat from the readers.
inline Tokenizer load_tokenizer(std::filesystem::path const& path) {
  auto const ext = path.extension().string();
  if (ext == ".gguf") {
    auto const g = Gguf::open(path);
    if (gguf_tokenizer_model(g) == "llama") {
      return Tokenizer(load_gguf_spm_tokenizer(g));
    }
#if defined(SPIKEQUANT_WITH_PCRE2)
    return Tokenizer(load_gguf_tokenizer(g));
#else
    fail(
        ErrorKind::kUnsupported,
        path.string(),
        ": byte-level BPE (gpt2) GGUF tokenizers are not built in (link PCRE2::PCRE2)");
#endif
  }
  if (ext == ".bin") {
    return Tokenizer(BinTokenizer::load(path));
  }
  if (ext == ".model") {
#if defined(SPIKEQUANT_WITH_SENTENCEPIECE)
    return Tokenizer(SentencePieceTokenizer::load(path));
#else
    fail(
        ErrorKind::kUnsupported,
        path.string(),
        ": SentencePiece support is not built in (link SentencePiece::SentencePiece)");
#endif
  }
  fail(
      ErrorKind::kUnsupported,
      path.string(),
      ": unknown tokenizer extension '",
      ext,
      "' (.bin, .model or .gguf)");
}

}  // namespace spikequant::v0::io
