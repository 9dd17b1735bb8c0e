// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file SentencePiece-style BPE over a scored vocabulary (GGUF tokenizer.ggml.model "llama":
//! LLaMA 1/2, Gemma), as llama.cpp's llm_tokenizer_spm and SentencePiece's BPE model encode:
//! spaces become U+2581 "▁" (after an optional leading one), the text starts as one symbol
//! per UTF-8 character, and the adjacent pair whose concatenation is the highest-scoring
//! normal or user-defined token (the leftmost among equals) merges until none is one; as in
//! SentencePiece, control, unused and byte pieces are never merge results. A character that
//! is not a token becomes its bytes' "<0xXX>" tokens (byte fallback), else the unknown token.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/utf8.hpp"
#include "spikequant/io/token_type.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spikequant::inline v0::io {

//! What a SentencePiece-style tokenizer is built from.
struct SpmVocab {
  std::vector<std::string> tokens;        //!< id -> piece ("▁" for a space)
  std::vector<float> scores;              //!< per id; higher merges first
  std::vector<std::int32_t> token_types;  //!< per id (TokenType); empty: all normal
  int bos_id = -1;
  int eos_id = -1;
  int unk_id = -1;
  bool add_space_prefix = true;  //!< tokenizer.ggml.add_space_prefix (LLaMA: true, Gemma: false)
  bool add_bos = true;
  bool add_eos = false;
};

class SpmTokenizer {
public:
  //! kFormat (prefixed by `source`) for an empty vocabulary, scores or types of the wrong
  //! length, non-finite scores, ids outside the vocabulary, special tokens not valid UTF-8.
  static SpmTokenizer build(SpmVocab v, std::string const& source = "tokenizer") {
    SpmTokenizer t;
    auto const n = v.tokens.size();
    require(
        n > 0 && n <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
        ErrorKind::kFormat,
        source,
        ": vocabulary of ",
        n,
        " tokens");
    require(
        v.scores.size() == n,
        ErrorKind::kFormat,
        source,
        ": ",
        v.scores.size(),
        " scores for ",
        n,
        " tokens");
    require(
        v.token_types.empty() || v.token_types.size() == n,
        ErrorKind::kFormat,
        source,
        ": ",
        v.token_types.size(),
        " token types for ",
        n,
        " tokens");
    for (int const id : {v.bos_id, v.eos_id, v.unk_id}) {
      require(
          id >= -1 && id < static_cast<int>(n),
          ErrorKind::kFormat,
          source,
          ": special token id ",
          id,
          " outside the vocabulary [0, ",
          n,
          ")");
    }
    for (float s : v.scores) {
      require(std::isfinite(s), ErrorKind::kFormat, source, ": a token score is not finite");
    }
    t.tokens_ = std::move(v.tokens);
    t.scores_ = std::move(v.scores);
    t.types_ = std::move(v.token_types);
    if (t.types_.empty()) {
      t.types_.assign(n, static_cast<std::int32_t>(TokenType::kNormal));
    }
    t.bos_ = v.bos_id;
    t.eos_ = v.eos_id;
    t.unk_ = v.unk_id;
    t.add_space_prefix_ = v.add_space_prefix;
    t.add_bos_ = v.add_bos;
    t.add_eos_ = v.add_eos;
    t.byte_ids_.fill(-1);
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (std::size_t i = 0; i < n; ++i) {
      auto const& s = t.tokens_[i];
      t.ids_.insert_or_assign(s, static_cast<int>(i));
      if (static_cast<TokenType>(t.types_[i]) == TokenType::kByte && s.size() == 6 &&
          s.compare(0, 3, "<0x") == 0 && s[5] == '>') {
        auto const hi = std::string_view(kHex).find(s[3]);
        auto const lo = std::string_view(kHex).find(s[4]);
        if (hi != std::string_view::npos && lo != std::string_view::npos) {
          t.byte_ids_[hi * 16 + lo] = static_cast<int>(i);
        }
      }
      if (t.is_special(static_cast<int>(i)) && !s.empty()) {
        require(
            detail::first_invalid_utf8(s) == std::string_view::npos,
            ErrorKind::kFormat,
            source,
            ": special token ",
            i,
            " is not valid UTF-8");
        t.specials_.push_back(static_cast<int>(i));
      }
    }
    std::stable_sort(t.specials_.begin(), t.specials_.end(), [&](int a, int b) {
      return t.tokens_[static_cast<std::size_t>(a)].size() >
             t.tokens_[static_cast<std::size_t>(b)].size();
    });
    return t;
  }

  [[nodiscard]] int vocab_size() const noexcept { return static_cast<int>(tokens_.size()); }
  [[nodiscard]] int bos_id() const noexcept { return bos_; }
  [[nodiscard]] int eos_id() const noexcept { return eos_; }
  [[nodiscard]] int unk_id() const noexcept { return unk_; }
  [[nodiscard]] bool add_bos() const noexcept { return add_bos_; }
  [[nodiscard]] bool add_eos() const noexcept { return add_eos_; }

  [[nodiscard]] bool is_special(int id) const {
    auto const t = static_cast<TokenType>(types_.at(static_cast<std::size_t>(id)));
    return t == TokenType::kControl || t == TokenType::kUserDefined;
  }

  [[nodiscard]] int find(std::string const& piece) const {
    auto it = ids_.find(piece);
    return it == ids_.end() ? -1 : it->second;
  }

  //! Token ids of UTF-8 `text` (kInvalidArgument otherwise). Special tokens are matched
  //! first; the space prefix goes before the first plain stretch only when it starts the
  //! text, as llama.cpp does.
  [[nodiscard]] std::vector<int> encode(std::string_view text, bool bos, bool eos) const {
    auto const bad = detail::first_invalid_utf8(text);
    require(
        bad == std::string_view::npos,
        ErrorKind::kInvalidArgument,
        "tokenizer: text is not valid UTF-8 at byte ",
        bad);
    std::vector<int> ids;
    if (bos) {
      require(bos_ >= 0, ErrorKind::kInvalidArgument, "tokenizer: the vocabulary has no BOS");
      ids.push_back(bos_);
    }
    std::size_t plain = 0, i = 0;
    while (i <= text.size()) {
      int const s = i < text.size() ? special_at(text, i) : -1;
      if (s < 0 && i < text.size()) {
        ++i;
        continue;
      }
      if (i > plain) {
        encode_plain(text.substr(plain, i - plain), add_space_prefix_ && plain == 0, ids);
      }
      if (s < 0) {
        break;
      }
      ids.push_back(s);
      i += tokens_[static_cast<std::size_t>(s)].size();
      plain = i;
    }
    if (eos) {
      require(eos_ >= 0, ErrorKind::kInvalidArgument, "tokenizer: the vocabulary has no EOS");
      ids.push_back(eos_);
    }
    return ids;
  }

  //! The bytes of one token: "▁" -> ' ', "<0xXX>" -> the byte; after BOS a leading space is
  //! dropped when the vocabulary adds a space prefix (llama2.c's streaming semantics).
  [[nodiscard]] std::string decode(int prev_token, int token) const {
    auto const& s = id_to_piece(token);
    if (static_cast<TokenType>(types_[static_cast<std::size_t>(token)]) == TokenType::kByte) {
      for (int b = 0; b < 256; ++b) {
        if (byte_ids_[static_cast<std::size_t>(b)] == token) {
          return std::string(1, static_cast<char>(b));
        }
      }
    }
    if (is_special(token)) {
      return s;
    }
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
      if (s.compare(i, 3, "\xE2\x96\x81") == 0) {
        out += ' ';
        i += 3;
      } else {
        out += s[i++];
      }
    }
    if (add_space_prefix_ && bos_ >= 0 && prev_token == bos_ && !out.empty() && out[0] == ' ') {
      out.erase(0, 1);
    }
    return out;
  }

  [[nodiscard]] std::string const& id_to_piece(int id) const {
    require(
        id >= 0 && id < vocab_size(),
        ErrorKind::kInvalidArgument,
        "tokenizer: token id ",
        id,
        " outside [0, ",
        vocab_size(),
        ")");
    return tokens_[static_cast<std::size_t>(id)];
  }

private:
  [[nodiscard]] int special_at(std::string_view text, std::size_t i) const {
    for (int id : specials_) {
      auto const& s = tokens_[static_cast<std::size_t>(id)];
      if (text.compare(i, s.size(), s) == 0) {
        return id;
      }
    }
    return -1;
  }

  void encode_plain(std::string_view text, bool space_prefix, std::vector<int>& ids) const {
    std::string norm;
    norm.reserve(text.size() + 3);
    if (space_prefix) {
      norm += "\xE2\x96\x81";
    }
    for (char c : text) {
      if (c == ' ') {
        norm += "\xE2\x96\x81";
      } else {
        norm += c;
      }
    }
    struct Sym {
      std::size_t begin, len;
      int prev, next;
    };
    std::vector<Sym> sym;
    for (std::size_t i = 0; i < norm.size();) {
      auto const c = static_cast<std::uint8_t>(norm[i]);
      std::size_t const len = std::min(
          norm.size() - i,
          std::size_t{
              c < 0x80   ? 1u
              : c < 0xE0 ? 2u
              : c < 0xF0 ? 3u
                         : 4u});
      int const k = static_cast<int>(sym.size());
      sym.push_back({i, len, k - 1, -1});
      if (k > 0) {
        sym[static_cast<std::size_t>(k - 1)].next = k;
      }
      i += len;
    }
    struct Cand {
      float score;
      int left, right;
      std::size_t len;
      bool operator<(Cand const& o) const {  // max-heap: higher score, then leftmost
        return score != o.score ? score < o.score : left > o.left;
      }
    };
    std::vector<Cand> heap;
    auto const push = [&](int l, int r) {
      if (l < 0 || r < 0) {
        return;
      }
      auto const& a = sym[static_cast<std::size_t>(l)];
      auto const& b = sym[static_cast<std::size_t>(r)];
      int const id = mergeable(norm.substr(a.begin, a.len + b.len));
      if (id < 0) {
        return;
      }
      heap.push_back({scores_[static_cast<std::size_t>(id)], l, r, a.len + b.len});
      std::push_heap(heap.begin(), heap.end());
    };
    for (int k = 1; k < static_cast<int>(sym.size()); ++k) {
      push(k - 1, k);
    }
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end());
      Cand const c = heap.back();
      heap.pop_back();
      auto& l = sym[static_cast<std::size_t>(c.left)];
      auto& r = sym[static_cast<std::size_t>(c.right)];
      if (l.len == 0 || r.len == 0 || l.len + r.len != c.len) {
        continue;  // one side merged since
      }
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) {
        sym[static_cast<std::size_t>(r.next)].prev = c.left;
      }
      push(l.prev, c.left);
      push(c.left, l.next);
    }
    for (int k = sym.empty() ? -1 : 0; k >= 0; k = sym[static_cast<std::size_t>(k)].next) {
      auto const& sk = sym[static_cast<std::size_t>(k)];
      std::string const piece = norm.substr(sk.begin, sk.len);
      // Merged symbols are tokens by construction; a single character may not be.
      if (int const id = mergeable(piece); id >= 0) {
        ids.push_back(id);
        continue;
      }
      for (char c : piece) {  // byte fallback
        int const b = byte_ids_[static_cast<std::uint8_t>(c)];
        if (b < 0) {
          require(
              unk_ >= 0,
              ErrorKind::kInvalidArgument,
              "tokenizer: no token, byte token or unknown token for '",
              piece,
              "'");
          ids.push_back(unk_);  // one unknown token for the character
          break;
        }
        ids.push_back(b);
      }
    }
  }

  //! The id of a normal or user-defined token spelled `piece`, or -1.
  [[nodiscard]] int mergeable(std::string const& piece) const {
    int const id = find(piece);
    if (id < 0) {
      return -1;
    }
    auto const t = static_cast<TokenType>(types_[static_cast<std::size_t>(id)]);
    return t == TokenType::kNormal || t == TokenType::kUserDefined ? id : -1;
  }

  std::vector<std::string> tokens_;
  std::vector<float> scores_;
  std::vector<std::int32_t> types_;
  std::unordered_map<std::string, int> ids_;
  std::vector<int> specials_;
  std::array<int, 256> byte_ids_{};
  int bos_ = -1, eos_ = -1, unk_ = -1;
  bool add_space_prefix_ = true, add_bos_ = true, add_eos_ = false;
};

}  // namespace spikequant::v0::io
