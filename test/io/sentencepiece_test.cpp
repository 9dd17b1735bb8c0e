// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Our tokenizer.bin encoder against the real SentencePiece library on the LLaMA-2
//! vocabulary, over a varied sample of real text; and the SentencePiece wrapper itself.
#include "io_test_util.hpp"
#include "spikequant/io/sentencepiece.hpp"
#include "spikequant/io/text_file.hpp"
#include "spikequant/io/tokenizer.hpp"
#include "spikequant/io/tokenizer_bin.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace spikequant;

namespace {
std::vector<std::string> lines_of(std::string const& text, std::size_t max_lines) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size() && out.size() < max_lines) {
    auto const nl = text.find('\n', pos);
    auto const end = nl == std::string::npos ? text.size() : nl;
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}
}  // namespace

TEST_CASE("sentencepiece: wrapper basics on the LLaMA-2 model") {
  auto const path = spikequant_test::shared_file("tokenizers/llama2/tokenizer.model");
  if (path.empty()) {
    return;
  }
  auto const sp = io::SentencePieceTokenizer::load(path);
  CHECK(sp.vocab_size() == 32000);
  CHECK(sp.bos_id() == 1);
  CHECK(sp.eos_id() == 2);
  CHECK(sp.encode("Hello world", true, false) == std::vector<int>{1, 15043, 3186});
  CHECK(sp.encode("Hello world", false, true) == std::vector<int>{15043, 3186, 2});
  CHECK(sp.id_to_piece(15043) == "\xE2\x96\x81Hello");
  CHECK(sp.piece_to_id("\xE2\x96\x81Hello") == 15043);
  CHECK(sp.piece_to_id("no such piece at all") == -1);
  CHECK(sp.decode(std::vector<int>{1, 15043, 3186, 2}) == "Hello world");
  CHECK(sp.decode(1, 15043) == "Hello");
  CHECK(sp.decode(15043, 3186) == " world");
  CHECK(sp.decode(5, 13) == "\n");
  SPIKEQUANT_CHECK_ERROR_KIND(sp.decode(1, 32000), ErrorKind::kInvalidArgument);
  SPIKEQUANT_CHECK_ERROR_KIND(sp.decode(std::vector<int>{-3}), ErrorKind::kInvalidArgument);
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::SentencePieceTokenizer::parse("definitely not a model proto"), ErrorKind::kFormat);
  spikequant_test::TempDir dir("sp");
  SPIKEQUANT_CHECK_ERROR_KIND(io::SentencePieceTokenizer::load(dir / "none.model"), ErrorKind::kIo);
  spikequant_test::write_text(dir / "bad.model", "garbage");
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::SentencePieceTokenizer::load(dir / "bad.model"), ErrorKind::kFormat);
  auto const t = io::load_tokenizer(path);
  CHECK(t.kind() == "sentencepiece");
  CHECK(t.encode("Hello world", true, false) == std::vector<int>{1, 15043, 3186});
}

TEST_CASE("sentencepiece: tokenizer.bin encoder agrees with SentencePiece on real text") {
  auto const model = spikequant_test::shared_file("tokenizers/llama2/tokenizer.model");
  auto const bin = spikequant_test::shared_file("tokenizers/llama2/tokenizer.bin");
  auto const stories = spikequant_test::shared_file("text/tinystories_val.txt");
  auto const wiki = spikequant_test::shared_file("text/wikitext2_test.raw");
  if (model.empty() || bin.empty() || stories.empty() || wiki.empty()) {
    return;
  }
  auto const sp = io::SentencePieceTokenizer::load(model);
  auto const tok = io::BinTokenizer::load(bin, 32000);

  std::vector<std::string> samples;
  for (auto const& p : {stories, wiki}) {
    auto const text = io::read_text_file(p);
    auto const lines = lines_of(text, 1500);  // wikitext lines keep their '\r'
    samples.insert(samples.end(), lines.begin(), lines.end());
    // multi-line chunks with embedded newlines and blank lines
    for (std::size_t k = 0; k < 30; ++k) {
      samples.push_back(text.substr((k * 7919u * 13u) % (text.size() - 2000), 200 + k * 50));
    }
  }
  for (char const* s :
       {"Hello world",
        "  two leading spaces",
        "trailing spaces   ",
        "tabs\tand\ttabs",
        "multiple   inner    spaces",
        "digits 0123456789 and 3.14159, -42, 1e10",
        "punctuation!?;:'\"()[]{}<>@#$%^&*_+=~`|\\/",
        "\xC3\xA9t\xC3\xA9 na\xC3\xAFve fa\xC3\xA7"
        "ade \xC3\x9C"
        "ber",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE6\x96\x87",               // Japanese
        "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80",  // Russian
        "emoji \xF0\x9F\x98\x80\xF0\x9F\x8E\x89 done",
        "line1\nline2\n\nline4",
        "crlf\r\nline",
        "<s> literal control text </s>",
        "<0x41> literal byte piece",
        "\n",
        " "}) {
    samples.emplace_back(s);
  }

  std::size_t agree = 0;
  std::vector<std::string> differ;
  for (auto const& s : samples) {
    auto const ours = tok.encode(s, true, false);
    auto const theirs = sp.encode(s, true, false);
    if (ours == theirs) {
      ++agree;
    } else {
      differ.push_back(s);
    }
    // our decode reproduces SentencePiece's decode of its own ids
    std::vector<int> const body(theirs.begin() + 1, theirs.end());
    CHECK(tok.decode(body, 1) == sp.decode(theirs));
  }
  MESSAGE("tokenizer.bin vs SentencePiece: ", agree, " of ", samples.size(), " samples identical");
  for (auto const& d : differ) {
    MESSAGE("differs: '", d.substr(0, 80), "'");
  }
  CHECK(samples.size() > 3000);
  CHECK(differ.empty());
}
