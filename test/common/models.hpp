// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Where the real GGUF models and their references live for tests: $SPIKEQUANT_MODELS,
//! else ~/.cache/spikequant/models (scripts/download-models.sh). Tests that need them skip
//! with a message when they are absent.
#pragma once

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace spikequant_test {

inline std::filesystem::path models_dir() {
  if (char const* env = std::getenv("SPIKEQUANT_MODELS"); env != nullptr && *env != '\0') {
    return env;
  }
  char const* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".cache" / "spikequant" / "models";
}

//! SmolLM2-135M-Instruct Q4_1, the Llama-architecture model.
inline std::filesystem::path smollm2_gguf() {
  return models_dir() / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf";
}

//! The path when it exists, else "" after a skip message naming `how`.
inline std::filesystem::path existing_or_skip(std::filesystem::path const& p, char const* how) {
  if (!std::filesystem::exists(p)) {
    MESSAGE("skipped: '", p.string(), "' not found (run ", how, ")");
    return {};
  }
  return p;
}

//! Whitespace-separated integers of a line.
inline std::vector<int> parse_ints(std::string const& line) {
  std::istringstream in(line);
  std::vector<int> out;
  for (int x = 0; in >> x;) {
    out.push_back(x);
  }
  return out;
}

}  // namespace spikequant_test
