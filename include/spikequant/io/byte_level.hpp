// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file GPT-2's byte-level alphabet (bytes_to_unicode in openai/gpt-2 encoder.py, also in
//! Hugging Face tokenizers' ByteLevel): every byte becomes one printable code point, so a
//! byte-level BPE vocabulary spells arbitrary bytes as UTF-8 strings. Printable Latin-1
//! bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) map to themselves; the other 68 bytes, in
//! increasing order, to U+0100, U+0101, ... (so ' ' is U+0120 "Ġ", '\n' U+010A "Ċ").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spikequant::inline v0::io {

//! The code point GPT-2's alphabet gives byte `b`.
constexpr char32_t byte_to_unicode(std::uint8_t b) noexcept {
  auto const kept = [](unsigned c) {
    return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
  };
  if (kept(b)) {
    return b;
  }
  unsigned n = 0;  // bytes below b that are not kept
  for (unsigned c = 0; c < b; ++c) {
    n += kept(c) ? 0 : 1;
  }
  return static_cast<char32_t>(0x100 + n);
}

//! The byte whose code point is `cp`, or nullopt for code points outside the alphabet.
constexpr std::optional<std::uint8_t> unicode_to_byte(char32_t cp) noexcept {
  if (cp < 0x100) {
    if (byte_to_unicode(static_cast<std::uint8_t>(cp)) == cp) {
      return static_cast<std::uint8_t>(cp);
    }
    return std::nullopt;
  }
  for (unsigned b = 0; b < 256; ++b) {
    if (byte_to_unicode(static_cast<std::uint8_t>(b)) == cp) {
      return static_cast<std::uint8_t>(b);
    }
  }
  return std::nullopt;
}

static_assert(byte_to_unicode(' ') == U'\u0120' && byte_to_unicode('\n') == U'\u010A');
static_assert(byte_to_unicode(0) == U'\u0100' && byte_to_unicode(0xAD) == U'\u0143');
static_assert(byte_to_unicode('A') == U'A' && unicode_to_byte(U'\u0120') == ' ');

//! UTF-8 encoding of a code point (no validation: callers pass scalar values).
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

//! Bytes -> their byte-level spelling (each byte one code point, UTF-8 encoded).
class ByteLevelAlphabet {
public:
  ByteLevelAlphabet() {
    for (unsigned b = 0; b < 256; ++b) {
      append_utf8(encoded_[b], byte_to_unicode(static_cast<std::uint8_t>(b)));
    }
  }

  //! The spelling of `bytes` (two bytes of UTF-8 per input byte at most).
  [[nodiscard]] std::string encode(std::string_view bytes) const {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
      out += encoded_[static_cast<std::uint8_t>(c)];
    }
    return out;
  }

  //! The bytes a byte-level spelling stands for. Code points outside the alphabet (in
  //! vocabulary entries that are not byte-level) and malformed UTF-8 are copied unchanged.
  [[nodiscard]] static std::string decode(std::string_view spelled) {
    std::string out;
    std::size_t i = 0;
    while (i < spelled.size()) {
      auto const c = static_cast<std::uint8_t>(spelled[i]);
      std::size_t len = c < 0x80         ? 1
                        : (c >> 5) == 6  ? 2
                        : (c >> 4) == 14 ? 3
                        : (c >> 3) == 30 ? 4
                                         : 0;
      if (len == 0 || i + len > spelled.size()) {
        out += spelled[i++];
        continue;
      }
      char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
      bool ok = true;
      for (std::size_t k = 1; k < len; ++k) {
        auto const ck = static_cast<std::uint8_t>(spelled[i + k]);
        ok = ok && (ck >> 6) == 2;
        cp = (cp << 6) | (ck & 0x3F);
      }
      if (!ok) {
        out += spelled[i++];
        continue;
      }
      if (auto const b = unicode_to_byte(cp)) {
        out += static_cast<char>(*b);
      } else {
        out.append(spelled.substr(i, len));
      }
      i += len;
    }
    return out;
  }

private:
  std::array<std::string, 256> encoded_;
};

}  // namespace spikequant::v0::io
