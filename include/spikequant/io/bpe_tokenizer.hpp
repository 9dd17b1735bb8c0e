// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Byte-level BPE (GPT-2, SmolLM2, Llama 3, Qwen): text -> special-token split ->
//! pre-tokenizer regexes -> each piece's bytes in GPT-2's alphabet (io/byte_level.hpp) ->
//! merges by rank -> ids. The vocabulary comes from a GGUF file (io/gguf_tokenizer.hpp) or any
//! caller; the regexes run on PCRE2 (io/regex.hpp).
//!
//! Semantics follow Hugging Face tokenizers, which transformers uses:
//! - special (control / user-defined) tokens are found first, leftmost-longest, and never
//!   merged with their neighbours;
//! - each pre-tokenizer regex splits every piece in turn into its matches and the text
//!   between them (tokenizers' "Isolated" behaviour, llama.cpp's unicode_regex_split);
//! - BPE repeatedly merges the adjacent pair of lowest merge rank, the leftmost on ties.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/byte_level.hpp"
#include "spikequant/io/detail/utf8.hpp"
#include "spikequant/io/regex.hpp"
#include "spikequant/io/token_type.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spikequant::inline v0::io {

//! What a byte-level BPE tokenizer is built from.
struct BpeVocab {
  std::vector<std::string> tokens;        //!< id -> byte-level spelling
  std::vector<std::int32_t> token_types;  //!< per id (TokenType); empty: all normal
  std::vector<std::string> merges;        //!< "left right", rank = index
  std::vector<std::string> pre_patterns;  //!< pre-tokenizer regexes, applied in order
  int bos_id = -1;                        //!< -1: none
  int eos_id = -1;
  int unk_id = -1;       //!< used for a byte-level character missing from the vocabulary
  bool add_bos = false;  //!< the file's own flags (tokenizer.ggml.add_bos_token, ...)
  bool add_eos = false;
};

class BpeTokenizer {
public:
  //! Checks and indexes a vocabulary. kFormat (prefixed by `source`) for an empty or
  //! over-large vocabulary, token_types of the wrong length, a merge without a space or whose
  //! parts or result are not tokens, BOS / EOS / UNK ids outside the vocabulary;
  //! kInvalidArgument for a pattern PCRE2 rejects.
  static BpeTokenizer build(BpeVocab v, std::string const& source = "tokenizer") {
    BpeTokenizer t;
    auto const n = v.tokens.size();
    require(
        n > 0 && n <= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
        ErrorKind::kFormat,
        source,
        ": vocabulary of ",
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
    t.tokens_ = std::move(v.tokens);
    t.types_ = std::move(v.token_types);
    if (t.types_.empty()) {
      t.types_.assign(n, static_cast<std::int32_t>(TokenType::kNormal));
    }
    t.bos_ = v.bos_id;
    t.eos_ = v.eos_id;
    t.unk_ = v.unk_id;
    t.add_bos_ = v.add_bos;
    t.add_eos_ = v.add_eos;
    t.ids_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      // As transformers' {token: id} dict: a repeated spelling maps to its last id.
      t.ids_.insert_or_assign(t.tokens_[i], static_cast<int>(i));
      if (t.is_special(static_cast<int>(i)) && !t.tokens_[i].empty()) {
        // Matched in the text before the regexes run: a special that is not valid UTF-8
        // could cut a character in two.
        require(
            detail::first_invalid_utf8(t.tokens_[i]) == std::string_view::npos,
            ErrorKind::kFormat,
            source,
            ": special token ",
            i,
            " is not valid UTF-8");
        t.specials_.push_back(static_cast<int>(i));
        t.first_byte_[static_cast<std::uint8_t>(t.tokens_[i][0])] = true;
      }
    }
    // Longest first, so the first special that matches at a position is the longest.
    std::stable_sort(t.specials_.begin(), t.specials_.end(), [&](int a, int b) {
      return t.tokens_[static_cast<std::size_t>(a)].size() >
             t.tokens_[static_cast<std::size_t>(b)].size();
    });
    t.merges_.reserve(v.merges.size());
    for (std::size_t r = 0; r < v.merges.size(); ++r) {
      auto const& m = v.merges[r];
      auto const sp = m.size() < 2 ? std::string::npos : m.find(' ', 1);
      require(
          sp != std::string::npos,
          ErrorKind::kFormat,
          source,
          ": merge ",
          r,
          " '",
          m,
          "' is not 'left right'");
      std::string const left = m.substr(0, sp), right = m.substr(sp + 1);
      int const a = t.find(left), b = t.find(right), ab = t.find(left + right);
      require(
          a >= 0 && b >= 0 && ab >= 0,
          ErrorKind::kFormat,
          source,
          ": merge ",
          r,
          " '",
          m,
          "' names a token missing from the vocabulary");
      t.merges_.try_emplace(pair_key(a, b), Merge{static_cast<int>(r), ab});  // first rank wins
    }
    t.pre_ = std::make_shared<std::vector<Regex>>();
    for (auto const& p : v.pre_patterns) {
      t.pre_->emplace_back(p);
    }
    return t;
  }

  [[nodiscard]] int vocab_size() const noexcept { return static_cast<int>(tokens_.size()); }
  [[nodiscard]] int bos_id() const noexcept { return bos_; }
  [[nodiscard]] int eos_id() const noexcept { return eos_; }
  [[nodiscard]] int unk_id() const noexcept { return unk_; }
  [[nodiscard]] std::size_t n_merges() const noexcept { return merges_.size(); }
  //! Whether the vocabulary's own flags ask for BOS / EOS around an encoded text.
  [[nodiscard]] bool add_bos() const noexcept { return add_bos_; }
  [[nodiscard]] bool add_eos() const noexcept { return add_eos_; }

  //! Control and user-defined tokens: matched in the text as they are, never merged.
  [[nodiscard]] bool is_special(int id) const {
    auto const t = static_cast<TokenType>(types_.at(static_cast<std::size_t>(id)));
    return t == TokenType::kControl || t == TokenType::kUserDefined;
  }

  //! The id of a spelling, or -1.
  [[nodiscard]] int find(std::string const& spelling) const {
    auto it = ids_.find(spelling);
    return it == ids_.end() ? -1 : it->second;
  }

  //! Token ids of `text` (UTF-8; kInvalidArgument naming the byte offset otherwise, since
  //! transformers only takes str, which cannot hold invalid UTF-8), with BOS / EOS around
  //! it on request (kInvalidArgument when the vocabulary has none).
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
    std::unordered_map<std::string, std::vector<int>> cache;  // repeated words are common
    std::size_t plain = 0;                                    // start of the text not yet tokenized
    std::size_t i = 0;
    while (i <= text.size()) {
      int const s = i < text.size() && first_byte_[static_cast<std::uint8_t>(text[i])]
                        ? special_at(text, i)
                        : -1;
      if (s < 0 && i < text.size()) {
        ++i;
        continue;
      }
      encode_plain(text.substr(plain, i - plain), ids, cache);
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

  //! The bytes of one token (special tokens as spelled). `prev_token` is unused: byte-level
  //! pieces carry their own spaces. kInvalidArgument for an id outside the vocabulary.
  [[nodiscard]] std::string decode(int /*prev_token*/, int token) const {
    auto const& s = id_to_piece(token);
    return is_special(token) ? s : ByteLevelAlphabet::decode(s);
  }

  //! The bytes of a sequence of tokens.
  [[nodiscard]] std::string decode(std::vector<int> const& ids) const {
    std::string out;
    for (int id : ids) {
      out += decode(-1, id);
    }
    return out;
  }

  //! The byte-level spelling of a token.
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

  //! The text pieces the pre-tokenizer makes of `text` (valid UTF-8, no special tokens).
  [[nodiscard]] std::vector<std::string_view> pre_tokenize(std::string_view text) const {
    std::vector<std::string_view> pieces{text};
    if (text.empty()) {
      return {};
    }
    for (auto const& re : *pre_) {
      std::vector<std::string_view> next;
      for (auto const piece : pieces) {
        std::size_t at = 0;
        for (auto const& [b, e] : re.find_all(piece)) {
          if (b > at) {
            next.push_back(piece.substr(at, b - at));
          }
          next.push_back(piece.substr(b, e - b));
          at = e;
        }
        if (at < piece.size()) {
          next.push_back(piece.substr(at));
        }
      }
      pieces = std::move(next);
    }
    return pieces;
  }

private:
  struct Merge {
    int rank;
    int id;
  };

  static std::uint64_t pair_key(int a, int b) noexcept {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
  }

  //! The longest special token starting at byte i, or -1.
  [[nodiscard]] int special_at(std::string_view text, std::size_t i) const {
    for (int id : specials_) {
      auto const& s = tokens_[static_cast<std::size_t>(id)];
      if (text.compare(i, s.size(), s) == 0) {
        return id;
      }
    }
    return -1;
  }

  void encode_plain(
      std::string_view text,
      std::vector<int>& ids,
      std::unordered_map<std::string, std::vector<int>>& cache) const {
    for (auto const piece : pre_tokenize(text)) {
      std::string spelled = alphabet_.encode(piece);
      auto it = cache.find(spelled);
      if (it == cache.end()) {
        it = cache.emplace(spelled, bpe(spelled)).first;
      }
      ids.insert(ids.end(), it->second.begin(), it->second.end());
    }
  }

  //! BPE of one byte-level word: start from its code points and merge, while any adjacent
  //! pair has a merge, the one of lowest rank (the leftmost among equals). A heap of
  //! candidate pairs, re-checked when popped, keeps a long word O(n log n).
  [[nodiscard]] std::vector<int> bpe(std::string const& spelled) const {
    struct Sym {
      int id;
      int prev, next;  // indices into sym, -1 at the ends
    };
    std::vector<Sym> sym;
    for (std::size_t i = 0; i < spelled.size();) {
      auto const c = static_cast<std::uint8_t>(spelled[i]);
      std::size_t const len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      int id = find(spelled.substr(i, len));
      if (id < 0) {
        require(
            unk_ >= 0,
            ErrorKind::kInvalidArgument,
            "tokenizer: no token for the byte-level character '",
            spelled.substr(i, len),
            "' and no unknown token");
        id = unk_;
      }
      int const k = static_cast<int>(sym.size());
      sym.push_back({id, k - 1, -1});
      if (k > 0) {
        sym[static_cast<std::size_t>(k - 1)].next = k;
      }
      i += len;
    }
    struct Cand {
      int rank, left, left_id, right_id, merged;
      bool operator>(Cand const& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::vector<Cand> heap;
    auto const push = [&](int left) {
      if (left < 0) {
        return;
      }
      int const right = sym[static_cast<std::size_t>(left)].next;
      if (right < 0) {
        return;
      }
      int const a = sym[static_cast<std::size_t>(left)].id;
      int const b = sym[static_cast<std::size_t>(right)].id;
      auto it = merges_.find(pair_key(a, b));
      if (it != merges_.end()) {
        heap.push_back({it->second.rank, left, a, b, it->second.id});
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
      }
    };
    for (int k = 0; k + 1 < static_cast<int>(sym.size()); ++k) {
      push(k);
    }
    std::vector<bool> dead(sym.size(), false);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
      Cand const c = heap.back();
      heap.pop_back();
      auto& l = sym[static_cast<std::size_t>(c.left)];
      // Stale when either side has merged since the pair was pushed.
      if (dead[static_cast<std::size_t>(c.left)] || l.id != c.left_id || l.next < 0 ||
          sym[static_cast<std::size_t>(l.next)].id != c.right_id) {
        continue;
      }
      int const r = l.next;
      l.id = c.merged;
      dead[static_cast<std::size_t>(r)] = true;
      l.next = sym[static_cast<std::size_t>(r)].next;
      if (l.next >= 0) {
        sym[static_cast<std::size_t>(l.next)].prev = c.left;
      }
      push(l.prev);
      push(c.left);
    }
    std::vector<int> out;
    for (int k = sym.empty() ? -1 : 0; k >= 0; k = sym[static_cast<std::size_t>(k)].next) {
      out.push_back(sym[static_cast<std::size_t>(k)].id);
    }
    return out;
  }

  std::vector<std::string> tokens_;
  std::vector<std::int32_t> types_;
  std::unordered_map<std::string, int> ids_;
  std::vector<int> specials_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::shared_ptr<std::vector<Regex>> pre_;
  std::array<bool, 256> first_byte_{};  // bytes a special token starts with
  ByteLevelAlphabet alphabet_;
  int bos_ = -1, eos_ = -1, unk_ = -1;
  bool add_bos_ = false, add_eos_ = false;
};

}  // namespace spikequant::v0::io
