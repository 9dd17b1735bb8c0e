// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama2.c tokenizer.bin: encode against llama2.c's own expectations, decode, and
//! malformed files.
#include "io_test_util.hpp"
#include "spikequant/io/text_file.hpp"
#include "spikequant/io/tokenizer.hpp"
#include "spikequant/io/tokenizer_bin.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace spikequant;

TEST_CASE("tokenizer.bin: LLaMA-2 vocabulary encodes llama2.c test.c prompts") {
  auto const path = spikequant_test::shared_file("tokenizers/llama2/tokenizer.bin");
  if (path.empty()) {
    return;
  }
  auto const tok = io::BinTokenizer::load(path, 32000);
  CHECK(tok.vocab_size() == 32000);
  using V = std::vector<int>;
  CHECK(tok.encode("Hello world", true, false) == V{1, 15043, 3186});
  CHECK(tok.encode("Hello world", false, true) == V{15043, 3186, 2});
  CHECK(tok.encode("", true, false) == V{1});
  CHECK(tok.encode("", false, false).empty());
  CHECK(tok.encode("\n", false, false) == V{29871, 13});  // " " then byte fallback <0x0A>
  // Expected ids copied from llama2.c's test.c (test_prompt_encodings).
  CHECK(
      tok.encode("I believe the meaning of life is", true, false) ==
      V{1, 306, 4658, 278, 6593, 310, 2834, 338});
  CHECK(
      tok.encode("Simply put, the theory of relativity states that ", true, false) ==
      V{1, 3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871});
  CHECK(
      tok.encode(
          "A brief message congratulating the team on the launch:\n\n        Hi everyone,\n\n      "
          "  I just ",
          true,
          false) == V{1,     319,   11473, 2643, 378,   629, 271, 18099, 278,
                      3815,  373,   278,   6826, 29901, 13,  13,  4706,  6324,
                      14332, 29892, 13,    13,   4706,  306, 925, 29871});
  CHECK(
      tok.encode(
          "Translate English to French:\n\n        sea otter => loutre de mer\n        peppermint "
          "=> menthe "
          "poivr\xC3\xA9"
          "e\n        plush girafe => girafe peluche\n        cheese =>",
          true,
          false) == V{1,     4103, 9632, 4223, 304,   5176, 29901, 13,   13,   4706,
                      7205,  4932, 357,  1149, 301,   449,  276,   316,  2778, 13,
                      4706,  1236, 407,  837,  524,   1149, 6042,  354,  772,  440,
                      29878, 1318, 13,   4706, 715,   1878, 330,   3055, 1725, 1149,
                      330,   3055, 1725, 4639, 28754, 13,   4706,  923,  968,  1149});
  CHECK(tok.id_to_piece(15043) == " Hello");
  CHECK(tok.id_to_piece(13) == "<0x0A>");
  CHECK(tok.decode(1, 15043) == "Hello");  // leading space stripped after BOS
  CHECK(tok.decode(3186, 15043) == " Hello");
  CHECK(tok.decode(5, 13) == "\n");  // raw byte
  CHECK(tok.decode(std::vector<int>{15043, 3186}, 1) == "Hello world");
  SPIKEQUANT_CHECK_ERROR_KIND(tok.decode(1, 32000), ErrorKind::kInvalidArgument);
  SPIKEQUANT_CHECK_ERROR_KIND(tok.id_to_piece(-1), ErrorKind::kInvalidArgument);
}

TEST_CASE("tokenizer.bin: stories260K tok512") {
  auto const path = spikequant_test::shared_file("models/stories260K/tok512.bin");
  if (path.empty()) {
    return;
  }
  auto const tok = io::BinTokenizer::load(path, 512);
  CHECK(tok.max_token_length() == 7);
  CHECK(tok.id_to_piece(1) == "\n<s>\n");
  CHECK(tok.id_to_piece(258) == "<0xFF>");
  CHECK(tok.id_to_piece(259) == " t");
  using V = std::vector<int>;
  // Expectations from a line-by-line transcription of run.c's encode (Python, outside the
  // repository), which also reproduces llama2.c test.c's LLaMA-2 ids above.
  CHECK(
      tok.encode("Once upon a time, there was a little girl named Lily.", true, false) ==
      V{1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426});
  CHECK(tok.encode("Hello world", true, false) == V{1, 346, 306, 414, 263, 304, 341});
  CHECK(
      tok.encode("The cat's toy: 123!", true, false) ==
      V{1, 291, 280, 294, 439, 419, 267, 422, 467, 410, 475, 479, 472, 443});
  CHECK(
      tok.encode("na\xC3\xAFve caf\xC3\xA9 \xF0\x9F\x98\x80", true, false) ==
      V{1, 297, 412, 198, 178, 360, 280, 412, 431, 485, 410, 243, 162, 155, 131});  // byte fallback
  // decoding the tokens after BOS gives the text back (byte tokens reassemble UTF-8)
  for (std::string const text :
       {"Once upon a time, there was a little girl named Lily.",
        "na\xC3\xAFve caf\xC3\xA9 \xF0\x9F\x98\x80"}) {
    auto const ids = tok.encode(text, true, false);
    CHECK(tok.decode(std::span<int const>(ids).subspan(1), 1) == text);
  }
}

TEST_CASE("tokenizer.bin: heap merge equals run.c's quadratic loop on real text") {
  for (auto const* rel : {"models/stories260K/tok512.bin", "tokenizers/llama2/tokenizer.bin"}) {
    auto const path = spikequant_test::shared_file(rel);
    auto const text_path = spikequant_test::shared_file("text/wikitext2_test.raw");
    auto const story_path = spikequant_test::shared_file("text/tinystories_val.txt");
    if (path.empty() || text_path.empty() || story_path.empty()) {
      return;
    }
    CAPTURE(rel);
    auto const tok = io::BinTokenizer::load(path);
    int compared = 0;
    for (auto const& p : {text_path, story_path}) {
      auto const text = io::read_text_file(p);
      // 40 pieces of varied length and position (including CRLF, unicode and digits)
      for (std::size_t k = 0; k < 40; ++k) {
        std::size_t const begin = (k * 104729u) % (text.size() - 600);
        std::string const piece = text.substr(begin, 30 + (k * 37) % 500);
        CHECK(tok.encode(piece, true, true) == tok.encode_reference(piece, true, true));
        ++compared;
      }
    }
    CHECK(compared == 80);
    // invalid UTF-8 and NUL bytes: both merge paths still agree
    std::string const odd("a\x80\x80\x80\x80\x80 b\xC3\0c\xF0\x9F", 14);
    CHECK(tok.encode(odd, true, false) == tok.encode_reference(odd, true, false));
  }
}

TEST_CASE("tokenizer.bin: load_tokenizer picks by extension") {
  auto const path = spikequant_test::shared_file("models/stories260K/tok512.bin");
  if (path.empty()) {
    return;
  }
  auto const t = io::load_tokenizer(path);
  CHECK(t.kind() == "tokenizer.bin");
  CHECK(t.vocab_size() == 512);
  CHECK(t.encode("Hello world", true, false) == std::vector<int>{1, 346, 306, 414, 263, 304, 341});
  SPIKEQUANT_CHECK_ERROR_KIND(io::load_tokenizer("tokenizer.json"), ErrorKind::kUnsupported);
}

namespace {
std::vector<std::byte> tiny_tokenizer() {
  std::vector<std::byte> b;
  spikequant_test::append_pod(b, std::int32_t{4});
  for (std::string const piece : {"<unk>", "<s>", "</s>", " ", "a", " a"}) {
    spikequant_test::append_pod(b, 0.0f);
    spikequant_test::append_pod(b, static_cast<std::int32_t>(piece.size()));
    auto const raw = spikequant_test::to_bytes(piece);
    b.insert(b.end(), raw.begin(), raw.end());
  }
  return b;
}
}  // namespace

TEST_CASE("tokenizer.bin: malformed files and missing byte fallback") {
  auto good = tiny_tokenizer();
  // "<unk>" (5 bytes) exceeds max_token_length 4
  SPIKEQUANT_CHECK_ERROR_KIND(io::BinTokenizer::parse(good), ErrorKind::kFormat);
  std::int32_t const eight = 8;
  std::memcpy(good.data(), &eight, 4);
  auto const tok = io::BinTokenizer::parse(good);
  CHECK(tok.vocab_size() == 6);
  CHECK(tok.encode("a", false, false) == std::vector<int>{5});  // " " + "a" -> " a"
  SPIKEQUANT_CHECK_ERROR_KIND(
      tok.encode("b", false, false), ErrorKind::kInvalidArgument);  // no <0x62>
  SPIKEQUANT_CHECK_ERROR_KIND(io::BinTokenizer::parse(good, 7), ErrorKind::kFormat);
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    CAPTURE(cut);
    auto const part = std::span<std::byte const>(good.data(), cut);
    // whole-token boundaries with at least <unk>, <s>, </s> parse; every other cut fails
    int const whole = cut == 40 ? 3 : cut == 49 ? 4 : cut == 58 ? 5 : 0;
    if (whole > 0) {
      CHECK(io::BinTokenizer::parse(part).vocab_size() == whole);
    } else {
      SPIKEQUANT_CHECK_ERROR_KIND(io::BinTokenizer::parse(part), ErrorKind::kFormat);
    }
  }
  auto neg = good;
  std::int32_t const minus = -1;
  std::memcpy(neg.data() + 8, &minus, 4);  // first piece length
  SPIKEQUANT_CHECK_ERROR_KIND(io::BinTokenizer::parse(neg), ErrorKind::kFormat);
  std::memcpy(neg.data(), &minus, 4);  // max_token_length
  SPIKEQUANT_CHECK_ERROR_KIND(io::BinTokenizer::parse(neg), ErrorKind::kFormat);
  spikequant_test::TempDir dir("tok");
  SPIKEQUANT_CHECK_ERROR_KIND(io::BinTokenizer::load(dir / "none.bin"), ErrorKind::kIo);
}
