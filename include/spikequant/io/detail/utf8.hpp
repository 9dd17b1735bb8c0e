// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above
//! U+10FFFF, no truncated sequences. Readers use it to refuse strings a file claims are UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace spikequant::inline v0::io::detail {

//! Offset of the first byte that does not start a valid UTF-8 sequence, or
//! std::string_view::npos when `s` is entirely valid.
constexpr std::size_t first_invalid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    auto const c = static_cast<std::uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      lo = c == 0xE0 ? 0xA0 : 0x80;  // E0 80..9F would be overlong
      hi = c == 0xED ? 0x9F : 0xBF;  // ED A0..BF would be a surrogate
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      lo = c == 0xF0 ? 0x90 : 0x80;  // F0 80..8F would be overlong
      hi = c == 0xF4 ? 0x8F : 0xBF;  // F4 90.. would exceed U+10FFFF
    } else {
      return i;  // continuation byte, C0 / C1 (overlong) or F5..FF
    }
    if (s.size() - i < len) {
      return i;
    }
    auto const c1 = static_cast<std::uint8_t>(s[i + 1]);
    if (c1 < lo || c1 > hi) {
      return i;
    }
    for (std::size_t k = 2; k < len; ++k) {
      auto const ck = static_cast<std::uint8_t>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) {
        return i;
      }
    }
    i += len;
  }
  return std::string_view::npos;
}

static_assert(
    first_invalid_utf8("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == std::string_view::npos);
static_assert(first_invalid_utf8("ab\xC0\xAF") == 2);        // overlong '/'
static_assert(first_invalid_utf8("\xED\xA0\x80") == 0);      // surrogate U+D800
static_assert(first_invalid_utf8("\xF4\x90\x80\x80") == 0);  // U+110000
static_assert(first_invalid_utf8("x\xE2\x82") == 1);         // truncated

}  // namespace spikequant::v0::io::detail
