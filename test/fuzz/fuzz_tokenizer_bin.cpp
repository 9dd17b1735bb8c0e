// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file libFuzzer target: io::BinTokenizer::parse on arbitrary bytes; the tail of the input
//! past a 0xFF 0x00 0xFF marker (if any) is encoded with the parsed vocabulary, and both
//! merge implementations must agree.
#include "spikequant/io/tokenizer_bin.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view const all(reinterpret_cast<char const*>(data), size);
  auto const mark = all.find(std::string_view("\xFF\x00\xFF", 3));
  std::string_view const file = mark == std::string_view::npos ? all : all.substr(0, mark);
  std::string_view const text =
      mark == std::string_view::npos ? std::string_view("Once upon a time") : all.substr(mark + 3);
  try {
    auto const t =
        spikequant::io::BinTokenizer::parse(std::as_bytes(std::span(file.data(), file.size())));
    try {
      auto const ids = t.encode(text.substr(0, 256), true, true);
      if (ids != t.encode_reference(text.substr(0, 256), true, true)) {
        __builtin_trap();
      }
      int prev = 1;
      for (int id : ids) {
        (void)t.decode(prev, id);
        prev = id;
      }
    } catch (spikequant::Error const&) {
    }
  } catch (spikequant::Error const&) {
  }
  return 0;
}
