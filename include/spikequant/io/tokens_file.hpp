// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Token-id files: whitespace-separated decimal integers.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace spikequant::inline v0::io {

//! Parses whitespace-separated (space, tab, CR, LF) decimal int32 token ids, an optional
//! leading '-' allowed (range checks against a vocabulary happen where ids are used).
//! @throws Error kFormat naming the offset of the first item that is not an int32.
inline std::vector<std::int32_t> parse_tokens(std::string_view text) {
  std::vector<std::int32_t> out;
  auto const space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  std::size_t i = 0;
  while (i < text.size()) {
    if (space(text[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && !space(text[j])) {
      ++j;
    }
    std::string_view const item = text.substr(i, j - i);
    std::int32_t value = 0;
    auto const [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    require(
        ec == std::errc() && ptr == item.data() + item.size(),
        ErrorKind::kFormat,
        "tokens: '",
        item.substr(0, 32),
        "' at offset ",
        i,
        " is not a 32-bit integer");
    out.push_back(value);
    i = j;
  }
  return out;
}

//! Reads a token-id file (see parse_tokens). kIo if unreadable, kFormat if empty or malformed.
inline std::vector<std::int32_t> read_tokens_file(std::filesystem::path const& path) {
  auto const bytes = detail::read_file(path, std::int64_t{4} << 30);
  try {
    auto tokens = parse_tokens(detail::as_chars(bytes));
    require(!tokens.empty(), ErrorKind::kFormat, "no token ids");
    return tokens;
  } catch (Error const& e) {
    throw Error(e.kind(), path.string() + ": " + e.what());
  }
}

}  // namespace spikequant::v0::io
