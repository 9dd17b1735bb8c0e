// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file libFuzzer target: io::parse_llama2c on arbitrary bytes.
#include "spikequant/io/llama2c.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  try {
    auto const w = spikequant::io::parse_llama2c(std::as_bytes(std::span(data, size)));
    // touch what was read: sizes must agree with the config
    auto const& c = w.config;
    if (w.embedding.size() !=
        static_cast<std::size_t>(c.vocab_size) * static_cast<std::size_t>(c.dim)) {
      __builtin_trap();
    }
  } catch (spikequant::Error const&) {
  }
  return 0;
}
