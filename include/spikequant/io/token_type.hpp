// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The token types of GGUF vocabularies (tokenizer.ggml.token_type), shared by the
//! byte-level BPE and the SentencePiece-style tokenizers.
#pragma once

#include <cstdint>

namespace spikequant::inline v0::io {

//! llama.cpp's token types (tokenizer.ggml.token_type).
enum class TokenType : std::int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

}  // namespace spikequant::v0::io
