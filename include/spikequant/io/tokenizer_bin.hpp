// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama2.c's tokenizer.bin: reader, and encode / decode exactly as llama2.c's run.c.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spikequant::inline v0::io {

//! A llama2.c tokenizer.bin vocabulary: pieces (with SentencePiece's "▁" already turned
//! into ' ' by llama2.c's exporter), their merge scores, and BPE encode / decode.
class BinTokenizer {
public:
  //! Largest piece length accepted (llama2.c's files use <= 64).
  static constexpr std::int32_t kMaxPieceBytes = 1 << 16;

  //! Parses tokenizer.bin bytes: int32 max_token_length, then per token float score,
  //! int32 len, len bytes, up to the end of the buffer.
  //! - Every len must be in [0, max_token_length]; the buffer must end on a token boundary.
  //! - `expected_vocab_size` > 0 additionally requires exactly that many tokens (llama2.c
  //!   reads the count from the model); pieces after it are rejected.
  //! @throws Error kFormat on a malformed buffer.
  static BinTokenizer parse(std::span<std::byte const> bytes, int expected_vocab_size = -1) {
    detail::ByteCursor cur(bytes, "tokenizer.bin");
    BinTokenizer t;
    t.max_token_length_ = cur.read<std::int32_t>("max_token_length");
    require(
        t.max_token_length_ > 0 && t.max_token_length_ <= kMaxPieceBytes,
        ErrorKind::kFormat,
        "tokenizer.bin: max_token_length ",
        t.max_token_length_,
        " out of range (1..",
        kMaxPieceBytes,
        ")");
    while (cur.remaining() > 0) {
      require(
          t.pieces_.size() < static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
          ErrorKind::kFormat,
          "tokenizer.bin: too many tokens");
      auto const score = cur.read<float>("score");
      auto const len = cur.read<std::int32_t>("piece length");
      require(
          len >= 0 && len <= t.max_token_length_,
          ErrorKind::kFormat,
          "tokenizer.bin: token ",
          t.pieces_.size(),
          " has length ",
          len,
          " outside [0, max_token_length ",
          t.max_token_length_,
          "] at offset ",
          cur.offset() - 4);
      auto const raw = cur.take(len, "piece bytes");
      t.scores_.push_back(score);
      t.pieces_.emplace_back(detail::as_chars(raw));
    }
    require(
        t.pieces_.size() >= 3,
        ErrorKind::kFormat,
        "tokenizer.bin: ",
        t.pieces_.size(),
        " tokens; at least <unk>, <s>, </s> are needed");
    if (expected_vocab_size > 0) {
      require(
          t.vocab_size() == expected_vocab_size,
          ErrorKind::kFormat,
          "tokenizer.bin: ",
          t.vocab_size(),
          " tokens, expected ",
          expected_vocab_size);
    }
    t.build_index();
    return t;
  }

  //! Reads a tokenizer.bin file (see parse). kIo if unreadable.
  static BinTokenizer load(std::filesystem::path const& path, int expected_vocab_size = -1) {
    auto const bytes = detail::read_file(path, std::int64_t{1} << 30);
    try {
      return parse(bytes, expected_vocab_size);
    } catch (Error const& e) {
      throw Error(e.kind(), path.string() + ": " + e.what());
    }
  }

  [[nodiscard]] int vocab_size() const noexcept { return static_cast<int>(pieces_.size()); }
  [[nodiscard]] int max_token_length() const noexcept { return max_token_length_; }
  [[nodiscard]] int bos_id() const noexcept { return 1; }
  [[nodiscard]] int eos_id() const noexcept { return 2; }

  //! The stored piece of a token (e.g. " the", "<0x0A>", "\n<s>\n"). kInvalidArgument when out of
  //! range.
  [[nodiscard]] std::string_view id_to_piece(int id) const {
    check_id(id);
    return pieces_[static_cast<std::size_t>(id)];
  }

  [[nodiscard]] float score(int id) const {
    check_id(id);
    return scores_[static_cast<std::size_t>(id)];
  }

  //! The id of a piece, or -1 (the first token with that piece when duplicated).
  [[nodiscard]] int piece_to_id(std::string_view piece) const {
    auto it = index_.find(std::string(piece));
    return it == index_.end() ? -1 : it->second;
  }

  //! Encodes text as llama2.c's run.c `encode` does.
  //! - Optional BOS (1); a dummy-prefix " " token when the text is non-empty; each UTF-8
  //!   code point (at most 4 bytes, split as run.c splits invalid sequences) looked up as a
  //!   piece, else one byte-fallback token per byte (id = byte + 3); then repeatedly merge
  //!   the consecutive pair whose concatenation is a piece with the highest score (the
  //!   leftmost on ties), the BOS token included as in run.c; optional EOS (2).
  //! - The merges use a priority queue (O(n log n)); the result equals run.c's quadratic
  //!   loop, kept as encode_reference and compared in the tests.
  //! - Unlike run.c, NUL bytes are ordinary bytes (run.c stops at the first NUL), and a
  //!   missing " " piece falls back to its byte token instead of emitting id -1.
  //! @throws Error kInvalidArgument when a byte-fallback id is outside the vocabulary.
  [[nodiscard]] std::vector<int> encode(std::string_view text, bool bos, bool eos) const {
    auto tokens = initial_tokens(text, bos);
    merge_heap(tokens);
    if (eos) {
      tokens.push_back(2);
    }
    return tokens;
  }

  //! encode() with run.c's literal quadratic merge loop (for tests and teaching).
  [[nodiscard]] std::vector<int> encode_reference(std::string_view text, bool bos, bool eos) const {
    auto tokens = initial_tokens(text, bos);
    std::string pair;
    while (tokens.size() >= 2) {
      float best_score = -1e10f;
      int best_id = -1;
      std::size_t best_idx = 0;
      for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
        pair.assign(pieces_[static_cast<std::size_t>(tokens[i])]);
        pair.append(pieces_[static_cast<std::size_t>(tokens[i + 1])]);
        int const id = piece_to_id(pair);
        if (id != -1 && scores_[static_cast<std::size_t>(id)] > best_score) {
          best_score = scores_[static_cast<std::size_t>(id)];
          best_id = id;
          best_idx = i;
        }
      }
      if (best_id == -1) {
        break;
      }
      tokens[best_idx] = best_id;
      tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(best_idx) + 1);
    }
    if (eos) {
      tokens.push_back(2);
    }
    return tokens;
  }

  //! The text of `token` following `prev_token`, as run.c's `decode`: after BOS (1) a
  //! leading ' ' is stripped; pieces of the form "<0xHH>" become that raw byte.
  [[nodiscard]] std::string decode(int prev_token, int token) const {
    std::string_view piece = id_to_piece(token);
    if (prev_token == 1 && !piece.empty() && piece.front() == ' ') {
      piece.remove_prefix(1);
    }
    if (int const b = byte_value(piece); b >= 0) {
      return std::string(1, static_cast<char>(b));
    }
    return std::string(piece);
  }

  //! Concatenated decode(prev, token) over a sequence (prev of the first token is -1,
  //! or the preceding id when `tokens` starts after BOS).
  [[nodiscard]] std::string decode(std::span<int const> tokens, int prev_token = -1) const {
    std::string out;
    for (int t : tokens) {
      out += decode(prev_token, t);
      prev_token = t;
    }
    return out;
  }

  //! The byte of a piece spelled exactly "<0xHH>" (hex digits, any case), else -1.
  static int byte_value(std::string_view piece) noexcept {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') {
      return -1;
    }
    auto const hex = [](char ch) {
      if (ch >= '0' && ch <= '9') {
        return ch - '0';
      }
      if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
      }
      if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
      }
      return -1;
    };
    int const hi = hex(piece[3]);
    int const lo = hex(piece[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }

private:
  // BOS, dummy prefix and one token per code point (or per byte), as run.c.
  [[nodiscard]] std::vector<int> initial_tokens(std::string_view text, bool bos) const {
    std::vector<int> tokens;
    tokens.reserve(text.size() + 3);
    if (bos) {
      tokens.push_back(1);
    }
    auto const push_piece = [&](std::string_view piece) {
      int const id = piece_to_id(piece);
      if (id != -1) {
        tokens.push_back(id);
        return;
      }
      for (char ch : piece) {
        int const byte_id = static_cast<unsigned char>(ch) + 3;
        require(
            byte_id < vocab_size(),
            ErrorKind::kInvalidArgument,
            "tokenizer.bin: no byte-fallback token for byte ",
            byte_id - 3,
            " (vocab_size ",
            vocab_size(),
            ")");
        tokens.push_back(byte_id);
      }
    };
    if (!text.empty()) {
      push_piece(" ");
    }
    auto const is_cont = [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0u) == 0x80u; };
    std::size_t start = 0;  // first byte of the current code point
    std::size_t len = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (!is_cont(text[i])) {
        len = 0;
        start = i;
      }
      ++len;
      if (i + 1 < text.size() && is_cont(text[i + 1]) && len < 4) {
        continue;
      }
      push_piece(text.substr(start, len));
      len = 0;
      start = i + 1;
    }
    return tokens;
  }

  // Merges with a max-heap keyed (score, leftmost position); symbols form a linked list
  // whose indices keep the left-to-right order, so ties resolve exactly as run.c's scan.
  void merge_heap(std::vector<int>& tokens) const {
    struct Sym {
      int id;
      int prev;
      int next;
    };
    struct Cand {
      float score;
      int left;
      int left_id;
      int right_id;
      int merged;
    };
    auto const worse = [](Cand const& a, Cand const& b) {
      return a.score != b.score ? a.score < b.score : a.left > b.left;
    };
    std::vector<Sym> sym(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      sym[i] = {
          tokens[i], static_cast<int>(i) - 1, i + 1 < tokens.size() ? static_cast<int>(i) + 1 : -1};
    }
    std::vector<Cand> heap;
    std::string pair;
    auto const consider = [&](int left) {
      if (left < 0) {
        return;
      }
      int const right = sym[static_cast<std::size_t>(left)].next;
      if (right < 0) {
        return;
      }
      int const a = sym[static_cast<std::size_t>(left)].id;
      int const b = sym[static_cast<std::size_t>(right)].id;
      pair.assign(pieces_[static_cast<std::size_t>(a)]);
      pair.append(pieces_[static_cast<std::size_t>(b)]);
      int const id = piece_to_id(pair);
      // run.c starts from best_score = -1e10 with a strict '>': lower scores never merge.
      if (id != -1 && scores_[static_cast<std::size_t>(id)] > -1e10f) {
        heap.push_back({scores_[static_cast<std::size_t>(id)], left, a, b, id});
        std::push_heap(heap.begin(), heap.end(), worse);
      }
    };
    for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
      consider(static_cast<int>(i));
    }
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      Cand const c = heap.back();
      heap.pop_back();
      auto& l = sym[static_cast<std::size_t>(c.left)];
      if (l.id != c.left_id || l.next < 0 ||
          sym[static_cast<std::size_t>(l.next)].id != c.right_id) {
        continue;  // stale: one side changed since this pair was queued
      }
      int const dead = l.next;
      l.id = c.merged;
      l.next = sym[static_cast<std::size_t>(dead)].next;
      if (l.next >= 0) {
        sym[static_cast<std::size_t>(l.next)].prev = c.left;
      }
      sym[static_cast<std::size_t>(dead)].id = -1;
      consider(l.prev);
      consider(c.left);
    }
    tokens.clear();
    for (int i = sym.empty() ? -1 : 0; i >= 0; i = sym[static_cast<std::size_t>(i)].next) {
      tokens.push_back(sym[static_cast<std::size_t>(i)].id);
    }
  }

  void check_id(int id) const {
    require(
        id >= 0 && id < vocab_size(),
        ErrorKind::kInvalidArgument,
        "tokenizer: token id ",
        id,
        " outside [0, ",
        vocab_size(),
        ")");
  }

  void build_index() {
    index_.reserve(pieces_.size());
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      index_.emplace(pieces_[i], static_cast<int>(i));  // keeps the first duplicate
    }
  }

  std::int32_t max_token_length_ = 0;
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int> index_;
};

}  // namespace spikequant::v0::io
