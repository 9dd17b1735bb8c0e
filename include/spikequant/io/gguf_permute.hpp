// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The row order of Llama attention weights in GGUF files. llama.cpp's converter
//! (convert_hf_to_gguf.py, LlamaModel.permute) reorders the rows of each head of
//! attn_q / attn_k from Hugging Face's rotate-half RoPE layout to ggml's interleaved pairs:
//! within a head of d rows, GGUF row 2i + j holds Hugging Face row j * d/2 + i
//! (i < d/2, j < 2). Reading such a file into a rotate-half model needs the inverse, which is
//! what transformers' LlamaTensorProcessor does when it loads a GGUF.
#pragma once

#include "spikequant/core/error.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace spikequant::inline v0::io {

//! Puts the rows of a GGUF Llama attn_q / attn_k weight ([rows, cols] row-major, rows =
//! n_head * head_dim) back in Hugging Face order, in place. `n_head` is the number of heads
//! of that projection: attention heads for attn_q, KV heads for attn_k.
//! @throws Error kInvalidArgument unless rows is a multiple of 2 * n_head and
//! w.size() == rows * cols.
inline void
unpermute_llama_qk(std::span<float> w, std::int64_t rows, std::int64_t cols, std::int64_t n_head) {
  require(
      rows > 0 && cols > 0 && n_head > 0 && rows % (2 * n_head) == 0,
      ErrorKind::kInvalidArgument,
      "unpermute_llama_qk: rows ",
      rows,
      " must be a positive multiple of 2 * n_head = ",
      2 * n_head);
  require(
      static_cast<std::int64_t>(w.size()) == rows * cols,
      ErrorKind::kInvalidArgument,
      "unpermute_llama_qk: ",
      w.size(),
      " values for [",
      rows,
      ", ",
      cols,
      "]");
  std::int64_t const d = rows / n_head;
  auto const c = static_cast<std::size_t>(cols);
  std::vector<float> head(static_cast<std::size_t>(d) * c);
  for (std::int64_t h = 0; h < n_head; ++h) {
    float* base = w.data() + static_cast<std::size_t>(h * d) * c;
    std::copy(base, base + head.size(), head.begin());
    for (std::int64_t i = 0; i < d / 2; ++i) {
      for (std::int64_t j = 0; j < 2; ++j) {
        float const* src = head.data() + static_cast<std::size_t>(2 * i + j) * c;
        std::copy(src, src + c, base + static_cast<std::size_t>(j * (d / 2) + i) * c);
      }
    }
  }
}

}  // namespace spikequant::v0::io
