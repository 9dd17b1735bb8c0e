// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Bad input at scale: the real files truncated at many cut points and with bytes
//! flipped; every reader must throw spikequant::Error (or succeed), never crash. Run this
//! under ASan + UBSan too (-DSPIKEQUANT_SANITIZE=ON).
#include "io_test_util.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/io/llama2c.hpp"
#include "spikequant/io/safetensors.hpp"
#include "spikequant/io/tokenizer_bin.hpp"
#include "spikequant/model/model.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

using namespace spikequant;

namespace {
// Calls f(bytes); returns true when it succeeded, false on spikequant::Error of kFormat /
// kUnsupported / kInvalidArgument. Anything else fails the test.
template <class F>
bool survives(F&& f, std::span<std::byte const> bytes) {
  try {
    f(bytes);
    return true;
  } catch (Error const& e) {
    CHECK_MESSAGE(
        (e.kind() == ErrorKind::kFormat || e.kind() == ErrorKind::kUnsupported ||
         e.kind() == ErrorKind::kInvalidArgument || e.kind() == ErrorKind::kShape),
        e.what());
    return false;
  }
}

std::vector<std::size_t> cut_points(std::size_t size, std::size_t count) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i < 64 && i < size; ++i) {
    cuts.push_back(i);  // every cut inside the headers
  }
  std::mt19937_64 rng(42);
  for (std::size_t i = 0; i < count; ++i) {
    cuts.push_back(std::uniform_int_distribution<std::size_t>(0, size - 1)(rng));
  }
  cuts.push_back(size - 1);
  return cuts;
}

// One random damage to a JSON text: every third trial a truncation, else one character
// replaced by a JSON-significant one (digits, signs, quotes, brackets, separators).
std::string mutate_json(std::string text, std::mt19937_64& rng, int trial) {
  auto const at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
  if (trial % 3 == 0) {
    text.resize(at);
  } else {
    text[at] = "0123456789-.e\"{}[],:x \n"[rng() % 23];
  }
  return text;
}
}  // namespace

TEST_CASE("bad input: stories260K.bin truncated at many cut points") {
  auto const path = spikequant_test::shared_file("models/stories260K/stories260K.bin");
  if (path.empty()) {
    return;
  }
  auto const bytes = spikequant_test::slurp(path);
  auto const parse = [](std::span<std::byte const> b) { (void)io::parse_llama2c(b); };
  CHECK(survives(parse, bytes));
  for (auto cut : cut_points(bytes.size(), 200)) {
    CAPTURE(cut);
    CHECK_FALSE(survives(parse, std::span<std::byte const>(bytes.data(), cut)));
  }
  spikequant_test::TempDir dir("trunc");
  for (auto cut : {std::size_t{0}, std::size_t{10}, bytes.size() / 3}) {
    spikequant_test::write_bytes(
        dir / "t.bin", {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
    SPIKEQUANT_CHECK_ERROR_KIND(io::load_llama2c(dir / "t.bin"), ErrorKind::kFormat);
  }
  // corrupt header fields: every int32 set to a few hostile values
  for (int field = 0; field < 7; ++field) {
    for (std::int32_t v : {0, -1, 1, 3, 1 << 20, INT32_MAX, INT32_MIN}) {
      auto b = bytes;
      std::memcpy(b.data() + 4 * field, &v, 4);
      (void)survives(parse, b);
    }
  }
}

TEST_CASE("bad input: tokenizer.bin truncated and byte-flipped") {
  for (auto const* rel : {"models/stories260K/tok512.bin", "tokenizers/llama2/tokenizer.bin"}) {
    auto const path = spikequant_test::shared_file(rel);
    if (path.empty()) {
      return;
    }
    CAPTURE(rel);
    auto const bytes = spikequant_test::slurp(path);
    auto const parse = [](std::span<std::byte const> b) {
      auto const t = io::BinTokenizer::parse(b);
      (void)t.encode("Once upon a time \xC3\xA9\xF0\x9F\x98\x80", true, true);
      for (int id = 0; id < t.vocab_size(); id += 97) {
        (void)t.decode(1, id);
      }
    };
    CHECK(survives(parse, bytes));
    for (auto cut : cut_points(bytes.size(), 150)) {
      (void)survives(parse, std::span<std::byte const>(bytes.data(), cut));
    }
    std::mt19937_64 rng(7);
    for (int trial = 0; trial < 100; ++trial) {
      auto b = bytes;
      for (int k = 0; k < 4; ++k) {
        auto const at = std::uniform_int_distribution<std::size_t>(
            0, std::min<std::size_t>(b.size() - 1, 4096))(rng);
        b[at] = static_cast<std::byte>(rng());
      }
      (void)survives(parse, b);
    }
  }
}

TEST_CASE("bad input: safetensors fixture truncated and byte-flipped") {
  auto const bytes = spikequant_test::slurp(
      spikequant_test::source_path("test/fixtures/hf/gemma/model.safetensors"));
  auto const parse = [](std::span<std::byte const> b) {
    auto const st = io::Safetensors::parse(b);
    for (auto const& t : st.tensors()) {
      (void)st.to_float(t);
    }
  };
  CHECK(survives(parse, bytes));
  for (auto cut : cut_points(bytes.size(), 200)) {
    CAPTURE(cut);
    CHECK_FALSE(survives(parse, std::span<std::byte const>(bytes.data(), cut)));
  }
  std::uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    auto b = bytes;
    auto const at =
        std::uniform_int_distribution<std::size_t>(0, static_cast<std::size_t>(header) + 7)(rng);
    b[at] = static_cast<std::byte>(rng());
    (void)survives(parse, b);
  }
}

TEST_CASE("bad input: config.json mutations") {
  std::ifstream in(spikequant_test::source_path("test/fixtures/hf/gemma/config.json"));
  std::string const text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(!text.empty());
  CHECK_NOTHROW((void)io::parse_hf_config(text));
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 500; ++trial) {
    std::string const t = mutate_json(text, rng, trial);
    (void)survives([&](std::span<std::byte const>) { (void)io::parse_hf_config(t); }, {});
  }
}

TEST_CASE("bad input: mixtral config.json mutations never crash the loader or the forward") {
  auto const src = spikequant_test::source_path("test/fixtures/hf/mixtral");
  std::ifstream in(src / "config.json");
  std::string const text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(!text.empty());
  auto const cfg = io::parse_hf_config(text);
  CHECK(cfg.n_experts == 4);
  spikequant_test::TempDir dir("moe_cfg");
  std::filesystem::copy_file(src / "model.safetensors", dir / "model.safetensors");
  std::mt19937_64 rng(5);
  int loaded = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::string const t = mutate_json(text, rng, trial);
    spikequant_test::write_text(dir / "config.json", t);
    bool const ok = survives(
        [&](std::span<std::byte const>) {
          llama::Model const m(io::load_hf(dir.path()));
          int const ids[3] = {1, 5, 17};
          auto cache = m.make_cache(3);
          (void)m.forward_last(ids, cache);
        },
        {});
    loaded += ok ? 1 : 0;
  }
  MESSAGE(loaded, " of 200 mutated configs still load and run");
  CHECK(loaded > 0);  // harmless mutations (whitespace, unused keys) keep loading
}
