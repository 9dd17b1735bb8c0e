// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Tokenizer: one value type over llama2.c tokenizer.bin and (when built with
//! SentencePiece) tokenizer.model files, chosen by file extension.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/tokenizer_bin.hpp"

#if defined(SPIKEQUANT_WITH_SENTENCEPIECE)
#  include "spikequant/io/sentencepiece.hpp"
#endif

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace spikequant::inline v0::io {

//! A tokenizer of either kind, with the operations the tools need.
//! SentencePiece support needs SPIKEQUANT_WITH_SENTENCEPIECE, which linking
//! SentencePiece::SentencePiece (cmake/FindSentencePiece.cmake) defines.
class Tokenizer {
public:
#if defined(SPIKEQUANT_WITH_SENTENCEPIECE)
  using Impl = std::variant<BinTokenizer, SentencePieceTokenizer>;
#else
  using Impl = std::variant<BinTokenizer>;
#endif

  explicit Tokenizer(BinTokenizer t)
      : impl_(std::move(t)) {}
#if defined(SPIKEQUANT_WITH_SENTENCEPIECE)
  explicit Tokenizer(SentencePieceTokenizer t)
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
  //! "tokenizer.bin" or "sentencepiece".
  [[nodiscard]] std::string_view kind() const noexcept {
    return impl_.index() == 0 ? "tokenizer.bin" : "sentencepiece";
  }
  [[nodiscard]] Impl const& impl() const noexcept {
    return impl_;
  }

private:
  Impl impl_;
};

//! Loads a tokenizer by extension: ".bin" -> BinTokenizer, ".model" -> SentencePiece.
//! @throws Error kUnsupported for other extensions or ".model" without SentencePiece;
//!         kIo / kFormat from the readers.
inline Tokenizer load_tokenizer(std::filesystem::path const& path) {
  auto const ext = path.extension().string();
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
      "' (.bin or .model)");
}

}  // namespace spikequant::v0::io
