// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file `spikequant tokenize --tokenizer T --text "..."`: prints the ids, BOS first.
#pragma once

#include "common.hpp"

#include <iostream>

namespace spikequant_tool {

inline ArgParser tokenize_parser() {
  ArgParser p("tokenize", "Prints the token ids of a text, BOS first, separated by spaces.");
  std::string def;
  if (auto const m = default_model_path(); !m.empty()) {
    def = (fs::path(m).parent_path() / "tok512.bin").string();
  }
  p.option(
       "tokenizer",
       "FILE",
       "tokenizer.bin (llama2.c), tokenizer.model (SentencePiece) or a .gguf model",
       def)
      .option("text", "TEXT", "the text to tokenize")
      .flag("no-bos", "do not prepend BOS");
  return p;
}

inline int run_tokenize(std::span<std::string const> words) {
  ArgParser const parser = tokenize_parser();
  ParsedArgs const args = parser.parse(words);
  if (args.help()) {
    std::cout << parser.usage();
    return 0;
  }
  if (!args.has("text")) {
    throw UsageError("tokenize needs --text TEXT");
  }
  std::string const path = args.get("tokenizer");
  if (path.empty()) {
    throw UsageError("no --tokenizer given and no data folder found (set SPIKEQUANT_DATA)");
  }
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    sq::fail(sq::ErrorKind::kIo, "tokenizer '", path, "' does not exist");
  }
  auto const tok = sq::io::load_tokenizer(path);
  auto const ids = tok.encode(args.get("text"), !args.flag("no-bos"), false);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::cout << (i ? " " : "") << ids[i];
  }
  std::cout << "\n";
  return 0;
}

}  // namespace spikequant_tool
