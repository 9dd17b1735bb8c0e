// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file stories260K, its tokenizer and TinyStories tokens for the calib model tests.
#pragma once

#include "common/stories.hpp"
#include "spikequant/io/llama2c.hpp"
#include "spikequant/io/text_file.hpp"
#include "spikequant/io/tokenizer_bin.hpp"
#include "spikequant/model/model.hpp"

#include <filesystem>
#include <optional>
#include <vector>

namespace spikequant_test {

struct Stories {
  spikequant::llama::Model model;
  spikequant::io::BinTokenizer tokenizer;
  std::vector<int> tokens;  //!< the first ~64 KB of TinyStories validation, no BOS
};

//! Loaded once per program; nullptr when the shared data is absent.
inline Stories* stories() {
  static std::optional<Stories> s = []() -> std::optional<Stories> {
    auto const d = data_dir();
    auto const m = stories_dir() / "stories260K.bin";
    if (d.empty() || !std::filesystem::exists(m)) {
      return std::nullopt;
    }
    auto tok = spikequant::io::BinTokenizer::load(stories_dir() / "tok512.bin");
    auto text = spikequant::io::read_text_file(d / "text" / "tinystories_val.txt");
    text.resize(std::min<std::size_t>(text.size(), 64 * 1024));
    auto ids = tok.encode(text, false, false);
    return Stories{
        spikequant::llama::Model(spikequant::io::load_llama2c(m)), std::move(tok), std::move(ids)};
  }();
  return s ? &*s : nullptr;
}

}  // namespace spikequant_test
