// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file libFuzzer target: io::Safetensors::parse on arbitrary bytes, converting every tensor.
#include "spikequant/io/safetensors.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  try {
    auto const st = spikequant::io::Safetensors::parse(std::as_bytes(std::span(data, size)));
    for (auto const& t : st.tensors()) {
      try {
        auto const v = st.to_float(t);
        if (v.size() != static_cast<std::size_t>(t.numel())) {
          __builtin_trap();
        }
      } catch (spikequant::Error const& e) {
        if (e.kind() != spikequant::ErrorKind::kUnsupported) {
          __builtin_trap();  // a parsed file must convert or be an unsupported dtype
        }
      }
    }
  } catch (spikequant::Error const&) {
  }
  return 0;
}
