// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file io::SpmTokenizer (GGUF "llama" vocabularies) on a hand-made scored vocabulary with
//! hand-worked results, and against the SentencePiece library itself on LLaMA-2's
//! tokenizer.model (its pieces, scores and types turned into the GGUF form): the WikiText-2
//! test file line by line and awkward strings, ids equal.
#include "io_test_util.hpp"
#include "spikequant/io/sentencepiece.hpp"
#include "spikequant/io/spm_tokenizer.hpp"
#include "spikequant/io/text_file.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace spikequant;

namespace {

std::string const kSp = "\xE2\x96\x81";  // U+2581

io::SpmTokenizer hand() {
  io::SpmVocab v;
  // 0 <unk>, 1 <s> control, 2..4 bytes for 'q' (0x71), 0xC3, 0xA9; then pieces.
  v.tokens = {
      "<unk>",
      "<s>",
      "<0x71>",
      "<0xC3>",
      "<0xA9>",
      kSp,
      "a",
      "b",
      "c",
      kSp + "a",
      "ab",
      "bc",
      "abc",
      kSp + "ab"};
  v.scores = {0, 0, 0, 0, 0, -1, -2, -2, -2, -3, -4, -1, -5, -6};
  v.token_types = {2, 3, 6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  v.unk_id = 0;
  v.bos_id = 1;
  return io::SpmTokenizer::build(v, "hand");
}

}  // namespace

TEST_CASE("SpmTokenizer: highest score merges first, byte fallback, specials") {
  auto const t = hand();
  using V = std::vector<int>;
  // "▁abc": pairs ▁a (-3), ab (-4), bc (-1): bc first, then ▁a, then (▁a, bc) is no token.
  CHECK(t.encode("abc", false, false) == V{9, 11});
  CHECK(t.encode("ab", true, false) == V{1, 13});  // ▁a then ▁ab
  CHECK(t.encode("q", false, false) == V{5, 2});   // ▁ and q's byte
  CHECK(t.encode("a\xC3\xA9", false, false) == V{9, 3, 4});
  CHECK(t.encode("a<s>b", false, false) == V{9, 1, 7});  // no prefix after a special
  CHECK(t.decode(1, 9) == "a");                          // space after BOS dropped
  CHECK(t.decode(6, 9) == " a");
  CHECK(t.decode(6, 3) == "\xC3");
  CHECK_THROWS_AS((void)t.encode("\xFF", false, false), Error);
  io::SpmVocab bad;
  bad.tokens = {"a"};
  bad.scores = {};
  CHECK_THROWS_AS((void)io::SpmTokenizer::build(bad), Error);
}

TEST_CASE("SpmTokenizer equals SentencePiece on LLaMA-2's vocabulary") {
  auto const path = spikequant_test::shared_file("tokenizers/llama2/tokenizer.model");
  auto const wiki = spikequant_test::shared_file("text/wikitext2_test.raw");
  if (path.empty() || wiki.empty()) {
    return;
  }
  auto const sp = io::SentencePieceTokenizer::load(path);
  auto const& p = sp.processor();
  io::SpmVocab v;
  for (int i = 0; i < p.GetPieceSize(); ++i) {
    v.tokens.push_back(p.IdToPiece(i));
    v.scores.push_back(p.GetScore(i));
    v.token_types.push_back(
        p.IsControl(i)   ? 3
        : p.IsUnknown(i) ? 2
        : p.IsUnused(i)  ? 5
        : p.IsByte(i)    ? 6
                         : 1);  // (LLaMA-2 has no user-defined pieces)
  }
  v.bos_id = p.bos_id();
  v.eos_id = p.eos_id();
  v.unk_id = p.unk_id();
  auto const t = io::SpmTokenizer::build(v, "llama2");
  std::size_t lines = 0, bad = 0, ids = 0;
  auto check = [&](std::string const& s) {
    auto const want = sp.encode(s, false, false);
    auto const got = t.encode(s, false, false);
    ++lines;
    ids += want.size();
    if (got != want) {
      if (bad++ < 5) {
        MESSAGE("differs on '", s.substr(0, 60), "'");
      }
    }
  };
  for (std::string s :
       {"Hello world",
        "  two  spaces ",
        "h\xC3\xA9llo \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC",
        "\t\n\r\n x",
        "1234567 3.14",
        "\x01\x1B[0m",
        "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"}) {
    check(s);
  }
  std::string const text = io::read_text_file(wiki);
  for (std::size_t at = 0; at < text.size();) {
    auto nl = text.find('\n', at);
    nl = nl == std::string::npos ? text.size() : nl + 1;
    check(text.substr(at, nl - at));
    at = nl;
  }
  MESSAGE(lines, " strings, ", ids, " SentencePiece ids, ", bad, " strings differ");
  CHECK(bad == 0);
}
