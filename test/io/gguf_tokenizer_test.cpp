// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Byte-level BPE from GGUF metadata: GPT-2's byte alphabet against an independent
//! transcription of bytes_to_unicode, BPE merge order and special tokens on a hand-made
//! vocabulary with hand-worked results, the pre-tokenizer splits, bad metadata refused; and,
//! when the model is present (suite "slow"), SmolLM2-135M's ids for the whole WikiText-2
//! test file and for awkward strings equal to transformers' (scripts/make_gguf_llama_refs.py).
#include "common/data.hpp"
#include "common/models.hpp"
#include "gguf_builder.hpp"
#include "spikequant/io/gguf_llama.hpp"
#include "spikequant/io/gguf_spm_tokenizer.hpp"
#include "spikequant/io/gguf_tokenizer.hpp"
#include "spikequant/io/text_file.hpp"

#include <algorithm>
#include <cstdint>
#include <doctest/doctest.h>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace spikequant;

namespace {

// GGUF string array elements: u64 length then the bytes, per string.
std::vector<std::byte> string_elems(std::vector<std::string> const& v) {
  std::vector<std::byte> b;
  for (auto const& s : v) {
    spikequant_test::GgufBuilder::put_string(b, s);
  }
  return b;
}

std::vector<std::byte> int32_elems(std::vector<std::int32_t> const& v) {
  std::vector<std::byte> b;
  for (auto x : v) {
    spikequant_test::append_pod(b, x);
  }
  return b;
}

// tokens 0..11; 0 and 9 control, 10 user-defined.
std::vector<std::string> const kTokens = {
    "<s>",
    "a",
    "b",
    "c",
    "\xC4\xA0",
    "ab",
    "abc",
    "aa",
    "\xC4\xA0"
    "a",
    "<|x|>",
    "<|x|>y",
    "z"};
std::vector<std::int32_t> const kTypes = {3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 4, 1};
std::vector<std::string> const kMerges = {"a b", "ab c", "a a", "\xC4\xA0 a"};

io::BpeTokenizer hand_tokenizer() {
  io::BpeVocab v;
  v.tokens = kTokens;
  v.token_types = kTypes;
  v.merges = kMerges;
  v.pre_patterns = {std::string(io::kGpt2PrePattern)};
  v.bos_id = 0;
  return io::BpeTokenizer::build(v, "hand");
}

io::Gguf tokenizer_gguf(
    std::string const& model,
    std::string const& pre,
    std::vector<std::string> const& merges = kMerges) {
  spikequant_test::GgufBuilder b;
  b.kv_string("tokenizer.ggml.model", model);
  if (!pre.empty()) {
    b.kv_string("tokenizer.ggml.pre", pre);
  }
  b.kv_array("tokenizer.ggml.tokens", 8, kTokens.size(), string_elems(kTokens));
  b.kv_array("tokenizer.ggml.token_type", 5, kTypes.size(), int32_elems(kTypes));
  b.kv_array("tokenizer.ggml.merges", 8, merges.size(), string_elems(merges));
  b.kv<std::uint32_t>("tokenizer.ggml.bos_token_id", 4, 0);
  b.kv<std::uint32_t>("tokenizer.ggml.eos_token_id", 4, 9);
  b.kv<std::uint8_t>("tokenizer.ggml.add_bos_token", 7, 1);
  return io::Gguf::parse(b.bytes(), "tok.gguf");
}

template <class F>
ErrorKind kind_of(F&& f) {
  try {
    f();
  } catch (Error const& e) {
    return e.kind();
  }
  FAIL("no spikequant::Error thrown");
  return ErrorKind::kInvalidArgument;
}

}  // namespace

TEST_CASE("byte-level alphabet equals GPT-2's bytes_to_unicode") {
  // openai/gpt-2 encoder.py, transcribed: printable ranges keep their value, the rest get
  // 256 + n in byte order.
  std::vector<int> bs, cs;
  for (int b = '!'; b <= '~'; ++b)
    bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b)
    bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b)
    bs.push_back(b);
  cs = bs;
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    if (std::find(bs.begin(), bs.end(), b) == bs.end()) {
      bs.push_back(b);
      cs.push_back(256 + n++);
    }
  }
  REQUIRE(bs.size() == 256);
  for (std::size_t i = 0; i < 256; ++i) {
    CAPTURE(bs[i]);
    CHECK(io::byte_to_unicode(static_cast<std::uint8_t>(bs[i])) == static_cast<char32_t>(cs[i]));
    CHECK(io::unicode_to_byte(static_cast<char32_t>(cs[i])) == static_cast<std::uint8_t>(bs[i]));
  }
  io::ByteLevelAlphabet const a;
  std::string all;
  for (int b = 0; b < 256; ++b)
    all += static_cast<char>(b);
  CHECK(a.encode(" \n") == "\xC4\xA0\xC4\x8A");  // "ĠĊ"
  CHECK(io::ByteLevelAlphabet::decode(a.encode(all)) == all);
}

TEST_CASE("BPE merges by rank, leftmost on ties, and specials leftmost-longest") {
  auto const t = hand_tokenizer();
  CHECK(t.vocab_size() == 12);
  CHECK(t.n_merges() == 4);
  using V = std::vector<int>;
  CHECK(t.encode("abc", false, false) == V{6});
  CHECK(t.encode("aaa", false, false) == V{7, 1});  // (a a) twice: the left one merges
  CHECK(t.encode("aab", false, false) == V{1, 5});  // (a b) ranks above (a a)
  CHECK(t.encode("ba", false, false) == V{2, 1});
  CHECK(t.encode(" a", false, false) == V{8});
  CHECK(t.encode("a  a", false, false) == V{1, 4, 8});  // "a", " ", " a"
  CHECK(t.encode("a<s>abc", true, false) == V{0, 1, 0, 6});
  CHECK(t.encode("<|x|>yb<|x|>", false, false) == V{10, 2, 9});
  CHECK(t.encode("", false, false).empty());
  CHECK(t.decode(-1, 8) == " a");
  CHECK(t.decode(-1, 9) == "<|x|>");
  CHECK(t.decode(t.encode("ab a<s>c", false, false)) == "ab a<s>c");
  // 'q' has no token and there is no unknown token; invalid UTF-8 is refused.
  CHECK(kind_of([&] { (void)t.encode("q", false, false); }) == ErrorKind::kInvalidArgument);
  CHECK(kind_of([&] { (void)t.encode("a\xFF", false, false); }) == ErrorKind::kInvalidArgument);
  CHECK(kind_of([&] { (void)t.encode("\xC3", false, false); }) == ErrorKind::kInvalidArgument);
  CHECK(kind_of([&] { (void)t.encode("a", false, true); }) == ErrorKind::kInvalidArgument);
  CHECK(kind_of([&] { (void)t.id_to_piece(12); }) == ErrorKind::kInvalidArgument);
}

TEST_CASE("pre-tokenizers split as Hugging Face's ByteLevel and Digits do") {
  io::BpeVocab v;
  v.tokens = kTokens;
  v.pre_patterns = io::gguf_pre_tokenizer_patterns("smollm");
  auto const smol = io::BpeTokenizer::build(v);
  using P = std::vector<std::string_view>;
  CHECK(
      smol.pre_tokenize("Hello world's 123  x") ==
      P{"Hello", " world", "'s", " ", "1", "2", "3", " ", " x"});
  CHECK(smol.pre_tokenize("a  1") == P{"a", "  ", "1"});
  CHECK(smol.pre_tokenize("\xC2\xB2\xC3\xA9") == P{"\xC2\xB2", "\xC3\xA9"});  // ² is \p{N}
  v.pre_patterns = io::gguf_pre_tokenizer_patterns("gpt-2");
  auto const gpt2 = io::BpeTokenizer::build(v);
  CHECK(gpt2.pre_tokenize("a  1") == P{"a", " ", " 1"});
  CHECK(gpt2.pre_tokenize("x\t\n  ") == P{"x", "\t\n  "});
  CHECK(gpt2.pre_tokenize("don't!!  ") == P{"don", "'t", "!!", "  "});
  CHECK(kind_of([] {
          (void)io::gguf_pre_tokenizer_patterns("qwen2-xyz");
        }) == ErrorKind::kUnsupported);
  v.pre_patterns = {"(unclosed"};
  CHECK(kind_of([&] { (void)io::BpeTokenizer::build(v); }) == ErrorKind::kInvalidArgument);
}

TEST_CASE("GGUF tokenizer metadata: flags, ids, and clear errors") {
  auto const t = io::load_gguf_tokenizer(tokenizer_gguf("gpt2", "smollm"));
  CHECK(t.bos_id() == 0);
  CHECK(t.eos_id() == 9);
  CHECK(t.add_bos());
  CHECK_FALSE(t.add_eos());
  CHECK(t.encode("abc", false, false) == std::vector<int>{6});
  CHECK(t.is_special(10));
  CHECK_FALSE(t.is_special(1));
  CHECK(kind_of([] {
          (void)io::load_gguf_tokenizer(tokenizer_gguf("llama", ""));
        }) == ErrorKind::kUnsupported);
  CHECK(kind_of([] {
          (void)io::load_gguf_tokenizer(tokenizer_gguf("gpt2", "nonesuch"));
        }) == ErrorKind::kUnsupported);
  CHECK(kind_of([] {
          (void)io::load_gguf_tokenizer(tokenizer_gguf("gpt2", "", {"a q"}));
        }) == ErrorKind::kFormat);
  CHECK(kind_of([] {
          (void)io::load_gguf_tokenizer(tokenizer_gguf("gpt2", "", {"ab"}));
        }) == ErrorKind::kFormat);
  spikequant_test::GgufBuilder b;
  CHECK(kind_of([&] {
          (void)io::load_gguf_tokenizer(io::Gguf::parse(b.bytes()));
        }) == ErrorKind::kFormat);
}

namespace {

std::string unhex(std::string const& h) {
  std::string s;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    s += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  }
  return s;
}

std::size_t first_difference(std::vector<int> const& a, std::vector<int> const& b) {
  auto const m = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return static_cast<std::size_t>(m.first - a.begin());
}

}  // namespace

TEST_CASE("SmolLM2-135M GGUF tokenizer equals transformers" * doctest::test_suite("slow")) {
  auto const path = spikequant_test::existing_or_skip(
      spikequant_test::smollm2_gguf(), "scripts/download-models.sh");
  if (path.empty()) {
    return;
  }
  auto const refdir = std::filesystem::path(path.string() + ".ref");
  std::ifstream wiki_ref(refdir / "tokens_wikitext.txt");
  std::ifstream awkward(refdir / "tokens_awkward.txt");
  if (!wiki_ref.is_open() || !awkward.is_open()) {
    MESSAGE(
        "skipped: no references in '", refdir.string(), "' (run scripts/make_gguf_llama_refs.py)");
    return;
  }
  // [gguf-llama-usage]
  auto const g = io::Gguf::open(path);              // memory-mapped
  llama::Weights const w = io::load_gguf_llama(g);  // float, Hugging Face layout
  auto const tok = io::load_gguf_tokenizer(g);      // byte-level BPE from the metadata
  std::vector<int> const ids = tok.encode("Hello world 12345 ", /*bos=*/false, /*eos=*/false);
  // [gguf-llama-usage]
  CHECK(w.config.n_layers == 30);
  // transformers' ids for the same text (each digit alone).
  CHECK(ids == std::vector<int>{19556, 905, 216, 33, 34, 35, 36, 37, 216});
  CHECK(tok.vocab_size() == 49152);
  CHECK(tok.bos_id() == 1);
  CHECK(tok.eos_id() == 2);
  CHECK_FALSE(tok.add_bos());

  std::size_t n_lines = 0, n_bad = 0;
  for (std::string line; std::getline(awkward, line);) {
    auto const tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    auto const text = unhex(line.substr(0, tab));
    auto const want = spikequant_test::parse_ints(line.substr(tab + 1));
    auto const got = tok.encode(text, false, false);
    ++n_lines;
    if (got != want) {
      ++n_bad;
      auto const at = first_difference(got, want);
      MESSAGE(
          "awkward string ", n_lines, " (", text.substr(0, 40), "): first difference at id ", at);
    }
  }
  CHECK(n_lines >= 30);
  CHECK(n_bad == 0);

  auto const text_path = spikequant_test::data_dir() / "text" / "wikitext2_test.raw";
  if (!std::filesystem::exists(text_path)) {
    MESSAGE("skipped WikiText-2: '", text_path.string(), "' not found");
    return;
  }
  std::string line;
  std::getline(wiki_ref, line);
  auto const want = spikequant_test::parse_ints(line);
  auto const got = tok.encode(io::read_text_file(text_path), false, false);
  auto const at = first_difference(got, want);
  MESSAGE(
      "WikiText-2 test: ",
      got.size(),
      " ids (transformers: ",
      want.size(),
      "), first difference at ",
      at);
  CHECK(got.size() == want.size());
  CHECK(at == want.size());
}

TEST_CASE("BPE equals the naive lowest-rank-leftmost loop on random vocabularies") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    io::BpeVocab v;
    v.tokens = {"a", "b", "c"};
    std::vector<std::pair<std::string, std::string>> merges;
    for (int m = 0; m < 40; ++m) {
      auto const& x = v.tokens[rng() % v.tokens.size()];
      auto const& y = v.tokens[rng() % v.tokens.size()];
      std::string const xy = x + y;
      if (xy.size() > 8 || std::find(v.tokens.begin(), v.tokens.end(), xy) != v.tokens.end()) {
        continue;
      }
      merges.emplace_back(x, y);
      v.merges.push_back(x + " " + y);
      v.tokens.push_back(xy);
    }
    auto const t = io::BpeTokenizer::build(v);
    for (int w = 0; w < 50; ++w) {
      std::string word;
      for (std::size_t n = 1 + rng() % 40; n > 0; --n) {
        word += static_cast<char>('a' + rng() % 3);
      }
      // Naive: merge the lowest-rank adjacent pair, the leftmost among equals, until none.
      std::vector<std::string> sym;
      for (char ch : word)
        sym.emplace_back(1, ch);
      for (;;) {
        std::size_t best = sym.size(), best_rank = merges.size();
        for (std::size_t k = 0; k + 1 < sym.size(); ++k) {
          for (std::size_t r = 0; r < best_rank; ++r) {
            if (merges[r].first == sym[k] && merges[r].second == sym[k + 1]) {
              best = k;
              best_rank = r;
              break;
            }
          }
        }
        if (best == sym.size())
          break;
        sym[best] += sym[best + 1];
        sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      }
      std::vector<int> want;
      for (auto const& s : sym)
        want.push_back(t.find(s));
      CAPTURE(word);
      CHECK(t.encode(word, false, false) == want);
    }
  }
}

TEST_CASE("Gemma-3-270M GGUF SentencePiece-style tokenizer" * doctest::test_suite("slow")) {
  auto const path = spikequant_test::existing_or_skip(
      spikequant_test::models_dir() / "gemma3-270m" / "gemma-3-270m-q4_k_m.gguf",
      "scripts/download-models.sh");
  if (path.empty()) {
    return;
  }
  auto const g = io::Gguf::open(path);
  CHECK(kind_of([&] { (void)io::load_gguf_tokenizer(g); }) == ErrorKind::kUnsupported);  // not gpt2
  auto const tok = io::load_gguf_spm_tokenizer(g);
  CHECK(tok.vocab_size() == 262144);
  CHECK(tok.bos_id() == 2);
  CHECK(tok.add_bos());
  // Gemma 3's published ids (its chat template starts <bos><start_of_turn>user\n); the
  // file says add_space_prefix false, so no "▁" before "Hello" or "The". transformers'
  // GGUF converter is no reference here: it builds a Unigram model from these scores.
  using V = std::vector<int>;
  CHECK(tok.encode("Hello world", false, false) == V{9259, 1902});
  CHECK(tok.encode("<start_of_turn>user\n", true, false) == V{2, 105, 2364, 107});
  CHECK(
      tok.encode("The capital of France is Paris.", false, false) ==
      V{818, 5279, 529, 7001, 563, 9079, 236761});
  std::string text;
  for (int id : tok.encode("h\xC3\xA9llo  \xF0\x9F\x98\x80 1234\n\tx", false, false)) {
    text += tok.decode(-1, id);
  }
  CHECK(text == "h\xC3\xA9llo  \xF0\x9F\x98\x80 1234\n\tx");  // round trip
}
