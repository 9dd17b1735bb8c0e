// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file libFuzzer target: io::parse_hf_config and io::parse_hf_index on arbitrary text.
#include "spikequant/io/hf_checkpoint.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view const text(reinterpret_cast<char const*>(data), size);
  try {
    auto const c = spikequant::io::parse_hf_config(text);
    if (c.dim <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.n_heads % c.n_kv_heads != 0 ||
        c.head_dim <= 0) {
      __builtin_trap();  // accepted configs are consistent
    }
  } catch (spikequant::Error const&) {
  }
  try {
    (void)spikequant::io::parse_hf_index(text);
  } catch (spikequant::Error const&) {
  }
  return 0;
}
