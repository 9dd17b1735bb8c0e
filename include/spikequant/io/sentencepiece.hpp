// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file A thin wrapper over the SentencePiece library (tokenizer.model files); its errors
//! become spikequant::Error. Link SentencePiece::SentencePiece (cmake/FindSentencePiece.cmake).
#pragma once

#include "spikequant/core/error.hpp"

#include <filesystem>
#include <memory>
#include <sentencepiece_processor.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spikequant::inline v0::io {

//! A SentencePiece model (e.g. LLaMA-2's tokenizer.model).
class SentencePieceTokenizer {
public:
  //! Loads a .model file. kIo if missing, kFormat if SentencePiece rejects it.
  static SentencePieceTokenizer load(std::filesystem::path const& path) {
    require(
        std::filesystem::is_regular_file(path),
        ErrorKind::kIo,
        "cannot open '",
        path.string(),
        "'");
    SentencePieceTokenizer t;
    auto const status = t.sp_->Load(path.string());
    require(status.ok(), ErrorKind::kFormat, path.string(), ": SentencePiece: ", status.ToString());
    return t;
  }

  //! Loads a serialized model proto held in memory. kFormat if SentencePiece rejects it.
  static SentencePieceTokenizer parse(std::string_view serialized) {
    SentencePieceTokenizer t;
    auto const status = t.sp_->LoadFromSerializedProto(serialized);
    require(status.ok(), ErrorKind::kFormat, "SentencePiece: ", status.ToString());
    return t;
  }

  [[nodiscard]] int vocab_size() const { return sp_->GetPieceSize(); }
  [[nodiscard]] int bos_id() const { return sp_->bos_id(); }
  [[nodiscard]] int eos_id() const { return sp_->eos_id(); }

  //! SentencePiece's encoding of `text`, with BOS / EOS ids around it on request.
  [[nodiscard]] std::vector<int> encode(std::string_view text, bool bos, bool eos) const {
    std::vector<int> ids;
    auto const status = sp_->Encode(text, &ids);
    require(status.ok(), ErrorKind::kInvalidArgument, "SentencePiece encode: ", status.ToString());
    if (bos) {
      ids.insert(ids.begin(), bos_id());
    }
    if (eos) {
      ids.push_back(eos_id());
    }
    return ids;
  }

  //! SentencePiece's own decoding of a whole sequence (control tokens dropped).
  [[nodiscard]] std::string decode(std::span<int const> ids) const {
    for (int id : ids) {
      check_id(id);
    }
    std::string text;
    auto const status = sp_->Decode(std::vector<int>(ids.begin(), ids.end()), &text);
    require(status.ok(), ErrorKind::kInvalidArgument, "SentencePiece decode: ", status.ToString());
    return text;
  }

  //! Streaming decode of one token, matching BinTokenizer::decode on the same vocabulary
  //! (llama2.c's exported pieces): "▁" -> ' ', BOS / EOS -> "\n<s>\n" / "\n</s>\n", a
  //! leading ' ' stripped after BOS, byte pieces "<0xHH>" -> the raw byte.
  [[nodiscard]] std::string decode(int prev_token, int token) const {
    check_id(token);
    if (sp_->IsByte(token)) {
      std::string const piece = sp_->IdToPiece(token);  // "<0xHH>"
      return std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
    }
    std::string piece;
    if (token == bos_id()) {
      piece = "\n<s>\n";
    } else if (token == eos_id()) {
      piece = "\n</s>\n";
    } else {
      piece = sp_->IdToPiece(token);
      std::string out;
      for (std::size_t i = 0; i < piece.size();) {
        if (piece.compare(i, 3, "\xE2\x96\x81") == 0) {
          out += ' ';
          i += 3;
        } else {
          out += piece[i++];
        }
      }
      piece = std::move(out);
    }
    if (bos_id() >= 0 && prev_token == bos_id() && !piece.empty() && piece.front() == ' ') {
      piece.erase(0, 1);
    }
    return piece;
  }

  //! The piece as SentencePiece spells it (with "▁").
  [[nodiscard]] std::string id_to_piece(int id) const {
    check_id(id);
    return sp_->IdToPiece(id);
  }

  //! The id of a piece, or -1 when absent.
  [[nodiscard]] int piece_to_id(std::string_view piece) const {
    int const id = sp_->PieceToId(piece);
    return id == sp_->unk_id() && piece != sp_->IdToPiece(id) ? -1 : id;
  }

  //! The underlying processor, for anything not wrapped here.
  [[nodiscard]] sentencepiece::SentencePieceProcessor const& processor() const noexcept {
    return *sp_;
  }

private:
  SentencePieceTokenizer()
      : sp_(std::make_shared<sentencepiece::SentencePieceProcessor>()) {}

  void check_id(int id) const {
    require(
        id >= 0 && id < vocab_size(),
        ErrorKind::kInvalidArgument,
        "tokenizer: token id ",
        id,
        " outside [0, ",
        vocab_size(),
        ")");
  }

  std::shared_ptr<sentencepiece::SentencePieceProcessor> sp_;
};

}  // namespace spikequant::v0::io
