// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file libFuzzer target: the tokenizers and the Llama model built from GGUF metadata.
//! First byte even: the rest is a GGUF file; io::load_gguf_llama, io::load_gguf_tokenizer and
//! io::load_gguf_spm_tokenizer run on it, and the tokenizers (when built) encode fixed
//! awkward strings.
//! First byte odd: the rest is a vocabulary in text form, for deeper coverage without a
//! valid container: line 1 the text to encode, then tokens (one per line) up to an empty
//! line, then merges; the first byte also picks the pre-tokenizer, the unknown token and
//! whether the tokens feed the SentencePiece-style tokenizer instead (scores -index, "<0xXX>"
//! tokens typed as bytes, merges ignored).
//! Every failure must be a spikequant::Error; encode's ids must lie in the vocabulary.
#include "spikequant/io/gguf_llama.hpp"
#include "spikequant/io/gguf_spm_tokenizer.hpp"
#include "spikequant/io/gguf_tokenizer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

template <class Tok>
void check_ids(Tok const& t, std::vector<int> const& ids) {
  for (int id : ids) {
    if (id < 0 || id >= t.vocab_size()) {
      __builtin_trap();
    }
    (void)t.decode(-1, id);
  }
}

template <class Tok>
void encode_some(Tok const& t, std::string_view text) {
  try {
    auto const ids = t.encode(text, t.bos_id() >= 0, t.eos_id() >= 0);
    check_ids(t, ids);
  } catch (spikequant::Error const&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  std::uint8_t const mode = data[0];
  std::string_view const rest(reinterpret_cast<char const*>(data + 1), size - 1);
  try {
    if ((mode & 1) == 0) {
      auto const g = spikequant::io::Gguf::parse(std::as_bytes(std::span(data + 1, size - 1)));
      try {
        auto const w = spikequant::io::load_gguf_llama(g);
        if (w.layers.size() != static_cast<std::size_t>(w.config.n_layers)) {
          __builtin_trap();
        }
      } catch (spikequant::Error const&) {
      }
      constexpr std::array<std::string_view, 6> texts{
          "Hello world 123",
          "  a\n\n b\t",
          "h\xC3\xA9llo \xF0\x9F\x98\x80",
          "<|im_start|>x",
          std::string_view("\x00\x01\x7F", 3),
          "a\xFF"};
      try {
        auto const spm = spikequant::io::load_gguf_spm_tokenizer(g);
        for (auto s : texts) {
          encode_some(spm, s);
        }
      } catch (spikequant::Error const&) {
      }
      auto const t = spikequant::io::load_gguf_tokenizer(g);
      for (auto s : texts) {
        encode_some(t, s);
      }
      return 0;
    }
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at <= rest.size()) {
      auto const nl = rest.find('\n', at);
      auto const end = nl == std::string_view::npos ? rest.size() : nl;
      lines.emplace_back(rest.substr(at, end - at));
      at = end + 1;
    }
    if ((mode & 16) != 0) {
      spikequant::io::SpmVocab v;
      for (std::size_t i = 1; i < lines.size() && !lines[i].empty(); ++i) {
        auto const& tok = lines[i];
        bool const byte = tok.size() == 6 && tok.compare(0, 3, "<0x") == 0 && tok[5] == '>';
        v.tokens.push_back(tok);
        v.scores.push_back(-static_cast<float>(i));
        v.token_types.push_back(byte ? 6 : i % 7 == 0 ? 3 : 1);
      }
      v.unk_id = (mode & 8) != 0 && !v.tokens.empty() ? 0 : -1;
      v.add_space_prefix = (mode & 32) != 0;
      auto const t = spikequant::io::SpmTokenizer::build(std::move(v));
      encode_some(t, std::string_view(lines[0]).substr(0, 4096));
      return 0;
    }
    spikequant::io::BpeVocab v;
    std::size_t i = 1;
    for (; i < lines.size() && !lines[i].empty(); ++i) {
      v.tokens.push_back(lines[i]);
      // Every seventh token special (control), the others normal.
      v.token_types.push_back(v.tokens.size() % 7 == 0 ? 3 : 1);
    }
    for (++i; i < lines.size(); ++i) {
      v.merges.push_back(lines[i]);
    }
    constexpr std::array<std::string_view, 3> pres{"gpt-2", "smollm", "llama-bpe"};
    v.pre_patterns = spikequant::io::gguf_pre_tokenizer_patterns(pres[(mode >> 1) % 3]);
    v.unk_id = (mode & 8) != 0 && !v.tokens.empty() ? 0 : -1;
    auto const t = spikequant::io::BpeTokenizer::build(std::move(v));
    // Bounded text: special-token matching is O(text x specials).
    encode_some(t, std::string_view(lines[0]).substr(0, 4096));
  } catch (spikequant::Error const&) {
  }
  return 0;
}
