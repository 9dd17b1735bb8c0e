// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file A Unicode-aware regular expression over UTF-8 text: a thin wrapper of PCRE2 (Debian:
//! libpcre2-dev), compiled with PCRE2_UTF | PCRE2_UCP so that \p{L}, \p{N} and \s follow the
//! Unicode properties, as the pre-tokenizer patterns of byte-level BPE vocabularies expect.
//! Link PCRE2::PCRE2 (cmake/FindPCRE2.cmake), which defines SPIKEQUANT_WITH_PCRE2.
#pragma once

#include "spikequant/core/error.hpp"

#ifndef PCRE2_CODE_UNIT_WIDTH
#  define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <cstddef>
#include <memory>
#include <pcre2.h>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spikequant::inline v0::io {

//! A compiled pattern, shared by copies (PCRE2 code is read-only once compiled, so one
//! object may be used from several threads; each match gets its own match data).
class Regex {
public:
  //! Compiles `pattern`; kInvalidArgument naming the pattern, PCRE2's message and offset.
  explicit Regex(std::string_view pattern)
      : pattern_(pattern) {
    int err = 0;
    PCRE2_SIZE at = 0;
    pcre2_code* code = pcre2_compile(
        reinterpret_cast<PCRE2_SPTR>(pattern_.data()),
        pattern_.size(),
        PCRE2_UTF | PCRE2_UCP,
        &err,
        &at,
        nullptr);
    require(
        code != nullptr,
        ErrorKind::kInvalidArgument,
        "regex '",
        pattern_,
        "': ",
        message(err),
        " at offset ",
        static_cast<std::size_t>(at));
    code_.reset(code, pcre2_code_free);
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional speed-up; falls back
  }

  [[nodiscard]] std::string const& pattern() const noexcept { return pattern_; }

  //! Byte ranges [begin, end) of the successive non-overlapping matches in `text`, which must
  //! be valid UTF-8 (checked by PCRE2: kInvalidArgument otherwise). An empty match advances
  //! by one code point, as Python's re.finditer does.
  [[nodiscard]] std::vector<std::pair<std::size_t, std::size_t>>
  find_all(std::string_view text) const {
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
        pcre2_match_data_create_from_pattern(code_.get(), nullptr), pcre2_match_data_free);
    require(md != nullptr, ErrorKind::kInvalidArgument, "regex: out of memory");
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::size_t start = 0;
    std::uint32_t options = 0;
    while (start <= text.size()) {
      int const rc = pcre2_match(
          code_.get(),
          reinterpret_cast<PCRE2_SPTR>(text.data()),
          text.size(),
          start,
          options,
          md.get(),
          nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) {
        break;
      }
      require(
          rc >= 0, ErrorKind::kInvalidArgument, "regex '", pattern_, "' on text: ", message(rc));
      options = PCRE2_NO_UTF_CHECK;  // checked once on the first call
      PCRE2_SIZE const* ov = pcre2_get_ovector_pointer(md.get());
      std::size_t const b = ov[0], e = ov[1];
      if (e > b) {
        out.emplace_back(b, e);
        start = e;
      } else {
        start = e + 1;  // skip one code point: its continuation bytes too
        while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
          ++start;
        }
      }
    }
    return out;
  }

private:
  static std::string message(int code) {
    PCRE2_UCHAR buf[256];
    int const n = pcre2_get_error_message(code, buf, sizeof buf);
    return n < 0 ? "PCRE2 error " + std::to_string(code)
                 : std::string(reinterpret_cast<char const*>(buf), static_cast<std::size_t>(n));
  }

  std::string pattern_;
  std::shared_ptr<pcre2_code> code_;
};

}  // namespace spikequant::v0::io
