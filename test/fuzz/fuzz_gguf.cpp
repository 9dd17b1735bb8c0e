// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file libFuzzer target: io::Gguf::parse on arbitrary bytes, reading every metadata value
//! and converting every tensor.
#include "spikequant/io/gguf.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  try {
    auto const g = spikequant::io::Gguf::parse(std::as_bytes(std::span(data, size)));
    std::size_t n = 0;
    for (auto const& [key, value] : g.metadata()) {
      if (g.find(key) != &value) {
        __builtin_trap();  // keys are unique, so the index finds this very entry
      }
      if (auto const* a = std::get_if<spikequant::io::GgufArray>(&value.value)) {
        n += a->size();
      }
    }
    for (auto const& t : g.tensors()) {
      if (g.raw(t).size() != static_cast<std::size_t>(t.n_bytes)) {
        __builtin_trap();
      }
      try {
        auto const v = g.to_float(t);
        if (v.size() != static_cast<std::size_t>(t.n_elements)) {
          __builtin_trap();
        }
      } catch (spikequant::Error const& e) {
        if (e.kind() != spikequant::ErrorKind::kUnsupported) {
          __builtin_trap();  // a parsed tensor must convert or be of an unsupported type
        }
      }
    }
    (void)n;
  } catch (spikequant::Error const&) {
  }
  return 0;
}
