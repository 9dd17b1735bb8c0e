// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Shared pieces of the subcommands: default data paths, loading a model (llama2.c
//! .bin file, Llama-architecture .gguf file or Hugging Face directory) and its tokenizer,
//! scheme names, token streams.
#pragma once

#include "args.hpp"
#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/io/data_path.hpp"
#include "spikequant/io/gguf_llama.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/io/llama2c.hpp"
#include "spikequant/io/text_file.hpp"
#include "spikequant/io/tokenizer.hpp"
#include "spikequant/io/tokens_file.hpp"
#include "spikequant/model/model.hpp"
#include "spikequant/model/quant_plan.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace spikequant_tool {

namespace sq = spikequant;
namespace fs = std::filesystem;

//! $SPIKEQUANT_DATA/models/stories260K/stories260K.bin (io::find_data_dir), or "" when no
//! data folder is found.
inline std::string default_model_path() {
  auto const d = sq::io::find_data_dir();
  return d.empty() ? std::string() : (d / "models" / "stories260K" / "stories260K.bin").string();
}

//! The tokenizer beside a model: a .gguf file is its own (its metadata holds the vocabulary);
//! for a directory its tokenizer.model / tokenizer.bin; for a file, tokenizer.bin or
//! llama2.c's tok<vocab>.bin in the same folder. nullopt if none.
inline std::optional<fs::path> tokenizer_near(fs::path const& model, int vocab_size) {
  std::error_code ec;
  if (model.extension() == ".gguf" && fs::is_regular_file(model, ec)) {
    return model;
  }
  fs::path const dir = fs::is_directory(model, ec) ? model : model.parent_path();
  std::vector<fs::path> const candidates = {
      dir / ("tok" + std::to_string(vocab_size) + ".bin"),
      dir / "tokenizer.bin",
      dir / "tokenizer.model"};
  for (auto const& c : candidates) {
    if (fs::is_regular_file(c, ec)) {
      return c;
    }
  }
  return std::nullopt;
}

//! Loads a model: a directory is a Hugging Face checkpoint (config.json + safetensors), a .gguf
//! file a Llama-architecture GGUF (dequantized to float), another file a llama2.c checkpoint.
//! Throws Error(kIo) naming the path when it does not exist.
inline sq::llama::Weights load_weights(std::string const& path) {
  if (path.empty()) {
    throw UsageError("no --model given and no data folder found (set SPIKEQUANT_DATA)");
  }
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    sq::fail(sq::ErrorKind::kIo, "model '", path, "' does not exist");
  }
  if (fs::is_directory(path, ec)) {
    return sq::io::load_hf(path);
  }
  if (fs::path(path).extension() == ".gguf") {
    return sq::io::load_gguf_llama(fs::path(path));
  }
  return sq::io::load_llama2c(path);
}

//! The tokenizer: --tokenizer when given, else the one beside the model. `required` false
//! returns nullopt instead of failing when neither exists.
inline std::optional<sq::io::Tokenizer> load_tokenizer_for(
    ParsedArgs const& args, std::string const& model_path, int vocab_size, bool required) {
  std::optional<fs::path> path;
  if (auto t = args.value("tokenizer")) {
    path = *t;
  } else if (!model_path.empty()) {
    path = tokenizer_near(model_path, vocab_size);
  }
  if (!path) {
    if (required) {
      throw UsageError("no tokenizer beside the model: pass --tokenizer FILE");
    }
    return std::nullopt;
  }
  std::error_code ec;
  if (!fs::exists(*path, ec)) {
    sq::fail(sq::ErrorKind::kIo, "tokenizer '", path->string(), "' does not exist");
  }
  auto tok = sq::io::load_tokenizer(*path);
  sq::require(
      tok.vocab_size() <= vocab_size,
      sq::ErrorKind::kInvalidArgument,
      "tokenizer '",
      path->string(),
      "' has ",
      tok.vocab_size(),
      " tokens but the model only ",
      vocab_size);
  return tok;
}

//! A --scheme value: fp32 or one W8A8 activation scheme.
struct SchemeChoice {
  std::string name;                  //!< as typed: "fp32", "w8a8-per-token", ...
  std::optional<sq::ActScheme> act;  //!< nullopt: fp32
  [[nodiscard]] sq::llama::QuantPlan plan() const {
    return act ? sq::llama::QuantPlan::w8a8(*act) : sq::llama::QuantPlan{};
  }
};

inline constexpr char const* kSchemeNames = "fp32|w8a8-per-token|w8a8-per-tensor|w8a8-static";

//! Parses a scheme name: "fp32" or what sq::parse_act_scheme accepts; UsageError listing the
//! valid names otherwise.
inline SchemeChoice parse_scheme(std::string const& s) {
  if (s == "fp32") {
    return {s, std::nullopt};
  }
  if (auto const act = sq::try_parse_act_scheme(s)) {
    return {s, *act};
  }
  throw UsageError("--scheme: unknown scheme '" + s + "' (expected " + kSchemeNames + ")");
}

//! Tokens of a text file, tokenized without BOS (the eval protocol's stream).
inline std::vector<int> text_file_tokens(std::string const& path, sq::io::Tokenizer const& tok) {
  std::string const text = sq::io::read_text_file(path);
  return tok.encode(text, false, false);
}

//! Token ids of a tokens file (whitespace-separated integers).
inline std::vector<int> tokens_file_tokens(std::string const& path) {
  auto const ids = sq::io::read_tokens_file(path);
  return std::vector<int>(ids.begin(), ids.end());
}

//! The --bmm flag (off|per-tensor|per-token) of eval and generate; UsageError otherwise.
inline std::optional<sq::ActScheme> bmm_flag(ParsedArgs const& args) {
  try {
    return sq::llama::parse_bmm(args.get("bmm"));
  } catch (sq::Error const&) {
    throw UsageError(
        "--bmm: unknown value '" + args.get("bmm") + "' (expected off, per-tensor or per-token)");
  }
}

//! Warns on stderr (once, one line) when a run reaches positions past the model's trained
//! context: RoPE then extrapolates and the numbers mean little, but it is not an error.
//! @param positions the largest number of positions one sequence will occupy
//! @param what the flag that set it, e.g. "--seq-len 1024"
inline void warn_past_trained_positions(
    sq::llama::Config const& config, std::int64_t positions, std::string const& what) {
  if (config.max_seq_len > 0 && positions > config.max_seq_len) {
    std::fprintf(
        stderr,
        "spikequant: warning: %s needs %lld positions, more than the %d the model was trained "
        "on; RoPE extrapolates beyond them\n",
        what.c_str(),
        static_cast<long long>(positions),
        config.max_seq_len);
  }
}

//! One-line version of a message (newlines become spaces).
inline std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  while (!s.empty() && s.back() == ' ') {
    s.pop_back();
  }
  return s;
}

}  // namespace spikequant_tool
