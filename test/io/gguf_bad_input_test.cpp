// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file GGUF files that must be refused with a clear spikequant::Error: each kind of bad
//! field written by hand, every truncation of the fixtures, and random byte flips (run
//! under ASan + UBSan too, -DSPIKEQUANT_SANITIZE=ON).
#include "gguf_builder.hpp"
#include "io_test_util.hpp"
#include "spikequant/io/gguf.hpp"

#include <cstdint>
#include <cstring>
#include <doctest/doctest.h>
#include <random>
#include <string>
#include <vector>

using namespace spikequant;
using spikequant_test::append_pod;
using spikequant_test::GgufBuilder;

namespace {

// Expects parse to throw kind `k` with `needle` in the message.
void refused(std::vector<std::byte> const& bytes, ErrorKind k, std::string const& needle) {
  try {
    (void)io::Gguf::parse(bytes, "bad.gguf");
    FAIL("parsed, expected an error containing '", needle, "'");
  } catch (Error const& e) {
    std::string const what = e.what();
    CHECK_MESSAGE(e.kind() == k, "kind ", to_string(e.kind()), ": ", what);
    CHECK_MESSAGE(what.find(needle) != std::string::npos, what);
    CHECK_MESSAGE(what.find("bad.gguf") != std::string::npos, what);
  }
}

std::vector<std::byte> q8_block() {
  std::vector<std::byte> b(34, std::byte{1});
  std::uint16_t const one = 0x3C00;
  std::memcpy(b.data(), &one, 2);
  return b;
}

GgufBuilder valid() {
  GgufBuilder b;
  b.kv_string("general.architecture", "llama");
  b.tensor("w", {32, 2}, 8, [] {
    auto x = q8_block();
    auto y = q8_block();
    x.insert(x.end(), y.begin(), y.end());
    return x;
  }());
  return b;
}

std::vector<std::byte> u64s(std::initializer_list<std::uint64_t> v) {
  std::vector<std::byte> b;
  for (auto x : v) {
    append_pod(b, x);
  }
  return b;
}

}  // namespace

TEST_CASE("gguf bad input: the builder's valid file parses") {
  auto const g = io::Gguf::parse(valid().bytes());
  CHECK(g.to_float("w") == std::vector<float>(64, 1.0f));
}

TEST_CASE("gguf bad input: header") {
  refused({}, ErrorKind::kFormat, "truncated");
  auto b = valid();
  b.magic = 0x46554746;
  refused(b.bytes(), ErrorKind::kFormat, "not a GGUF file");
  b = valid();
  b.version = 1;
  refused(b.bytes(), ErrorKind::kUnsupported, "version 1");
  b.version = 4;
  refused(b.bytes(), ErrorKind::kFormat, "version 4");
  b.version = 0x03000000;
  refused(b.bytes(), ErrorKind::kUnsupported, "big-endian");
  b = valid();
  b.n_tensors_override = std::int64_t{1} << 60;
  refused(b.bytes(), ErrorKind::kFormat, "more than the");
  b = valid();
  b.n_kv_override = 1000;
  refused(b.bytes(), ErrorKind::kFormat, "more than the");
  b = valid();
  b.n_kv_override = 2;  // one more than written: the tensor info is misread as a key
  CHECK_THROWS_AS((void)io::Gguf::parse(b.bytes()), Error);
}

TEST_CASE("gguf bad input: metadata") {
  GgufBuilder b;
  b.kv<std::uint64_t>("k", 8, std::uint64_t{1} << 40);  // a string whose length is absurd
  refused(b.bytes(), ErrorKind::kFormat, "runs past the end");
  b = GgufBuilder{};
  b.kv_string("k", "ok\xC3(");
  refused(b.bytes(), ErrorKind::kFormat, "not valid UTF-8");
  b = GgufBuilder{};
  b.kv_string("bad\xFF key", "v");
  refused(b.bytes(), ErrorKind::kFormat, "metadata key is not valid UTF-8");
  b = GgufBuilder{};
  b.kv<std::uint32_t>("k", 13, 0);
  refused(b.bytes(), ErrorKind::kFormat, "unknown value type 13");
  b = GgufBuilder{};
  b.kv<std::uint8_t>("k", 7, 2);
  refused(b.bytes(), ErrorKind::kFormat, "BOOL of 2");
  b = GgufBuilder{};
  b.kv_array("k", 9, 1, u64s({0}));
  refused(b.bytes(), ErrorKind::kUnsupported, "array of arrays");
  b = GgufBuilder{};
  b.kv_array("k", 14, 1, u64s({0}));
  refused(b.bytes(), ErrorKind::kFormat, "unknown value type 14");
  b = GgufBuilder{};
  b.kv_array("k", 8, std::uint64_t{1} << 61, u64s({0}));  // 2^61 strings
  refused(b.bytes(), ErrorKind::kFormat, "claims");
  b = GgufBuilder{};
  b.kv_array("k", 6, 5, u64s({0}));  // 5 floats, 8 bytes there
  refused(b.bytes(), ErrorKind::kFormat, "claims");
  b = GgufBuilder{};
  b.kv_string("k", "a");
  b.kv_string("k", "b");
  refused(b.bytes(), ErrorKind::kFormat, "duplicate metadata key 'k'");
  b = GgufBuilder{};
  b.kv_array("strs", 8, 2, [] {
    std::vector<std::byte> e;
    GgufBuilder::put_string(e, "fine");
    GgufBuilder::put_string(e, "\xED\xA0\x80");  // a UTF-16 surrogate
    return e;
  }());
  refused(b.bytes(), ErrorKind::kFormat, "string element of 'strs' is not valid UTF-8");
}

TEST_CASE("gguf bad input: alignment") {
  for (std::uint32_t a : {0u, 3u, 48u}) {
    GgufBuilder b;
    b.kv<std::uint32_t>("general.alignment", 4, a);
    refused(b.bytes(), ErrorKind::kFormat, "not a power of two");
  }
  GgufBuilder b;
  b.kv<std::uint64_t>("general.alignment", 10, 32);
  refused(b.bytes(), ErrorKind::kFormat, "must be UINT32");
  // A valid alignment the data does not follow: the tensor offset is misaligned.
  GgufBuilder m;
  m.alignment = 64;
  m.kv<std::uint32_t>("general.alignment", 4, 64);
  m.info("w", {32}, 8, 32);
  refused(m.bytes(), ErrorKind::kFormat, "not a multiple of the alignment 64");
}

TEST_CASE("gguf bad input: tensor infos") {
  GgufBuilder b;
  b.info("w", {32, 1, 1, 1, 1}, 0, 0);
  refused(b.bytes(), ErrorKind::kFormat, "5 dimensions");
  b = GgufBuilder{};
  b.info("w", {32}, 99, 0);
  refused(b.bytes(), ErrorKind::kFormat, "unknown ggml type id 99");
  b = GgufBuilder{};
  b.info("w", {32}, 4, 0);  // the removed Q4_2
  refused(b.bytes(), ErrorKind::kFormat, "unknown ggml type id 4");
  b = GgufBuilder{};
  b.info("w", {33}, 8, 0);
  refused(b.bytes(), ErrorKind::kFormat, "not a multiple of the Q8_0 block size 32");
  b = GgufBuilder{};
  b.info("w", {std::uint64_t{1} << 40, std::uint64_t{1} << 40}, 0, 0);
  refused(b.bytes(), ErrorKind::kFormat, "overflows");
  b = GgufBuilder{};
  b.info("w", {std::uint64_t{1} << 62}, 0, 0);  // elements fit int64, bytes (x 4) do not
  refused(b.bytes(), ErrorKind::kFormat, "overflows");
  b = GgufBuilder{};
  b.info("w", {std::uint64_t{1} << 62, 0}, 0, 0);  // no elements, but one row's bytes overflow
  refused(b.bytes(), ErrorKind::kFormat, "row size: size overflows");
  b = GgufBuilder{};
  b.info("w", {~std::uint64_t{0}}, 0, 0);
  refused(b.bytes(), ErrorKind::kFormat, "too large");
  b = GgufBuilder{};
  b.info("w", {32}, 0, ~std::uint64_t{0});
  refused(b.bytes(), ErrorKind::kFormat, "too large");
  b = GgufBuilder{};
  b.info("w", {32}, 0, std::uint64_t{1} << 40);
  refused(b.bytes(), ErrorKind::kFormat, "runs past the end");
  b = GgufBuilder{};
  b.info("w", {32}, 0, 32);
  refused(b.bytes(), ErrorKind::kFormat, "runs past the end");  // data section missing
  b = GgufBuilder{};
  b.tensor("a", {32}, 8, q8_block());
  b.info("b", {32}, 8, 0);  // same bytes as a
  refused(b.bytes(), ErrorKind::kFormat, "overlap");
  b = GgufBuilder{};
  b.tensor("a", {32}, 8, q8_block());
  b.tensor("a", {32}, 8, q8_block());
  refused(b.bytes(), ErrorKind::kFormat, "duplicate tensor 'a'");
  b = GgufBuilder{};
  b.info("bad\xC0name", {32}, 0, 0);
  refused(b.bytes(), ErrorKind::kFormat, "tensor name is not valid UTF-8");
}

TEST_CASE("gguf bad input: unsupported types parse and converting them is kUnsupported") {
  GgufBuilder b;
  b.tensor("iq", {256}, 16, std::vector<std::byte>(66));  // IQ2_XXS
  auto const g = io::Gguf::parse(b.bytes());
  CHECK(g.tensor("iq").n_bytes == 66);
  SPIKEQUANT_CHECK_ERROR_KIND(g.to_float("iq"), ErrorKind::kUnsupported);
}

TEST_CASE("gguf bad input: every truncation of the fixtures is refused") {
  for (char const* name : {"metadata.gguf", "quants.gguf"}) {
    CAPTURE(name);
    auto const bytes = spikequant_test::slurp(
        spikequant_test::source_path(std::string("test/fixtures/gguf/") + name));
    auto const whole = io::Gguf::parse(bytes);
    std::int64_t end = whole.data_offset();
    for (auto const& t : whole.tensors()) {
      end = std::max(end, whole.data_offset() + t.offset + t.n_bytes);
    }
    std::size_t const step = bytes.size() > 4096 ? 7 : 1;
    for (std::size_t cut = 0; cut < static_cast<std::size_t>(end); cut += step) {
      std::vector<std::byte> const part(
          bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
      bool threw = false;
      try {
        (void)io::Gguf::parse(part);
      } catch (Error const& e) {
        threw = true;
        if (e.kind() != ErrorKind::kFormat) {
          FAIL_CHECK("cut ", cut, ": kind ", to_string(e.kind()), ": ", e.what());
        }
      }
      if (!threw) {
        FAIL_CHECK("cut at ", cut, " of ", bytes.size(), " parsed");
      }
    }
  }
}

TEST_CASE("gguf bad input: random byte flips give an Error or a file that converts") {
  auto const bytes =
      spikequant_test::slurp(spikequant_test::source_path("test/fixtures/gguf/metadata.gguf"));
  std::mt19937 rng(7);
  int parsed = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto b = bytes;
    int const flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // Mostly the header and metadata, where the structure is.
      auto const pos = rng() % std::min<std::size_t>(b.size(), trial % 2 ? b.size() : 700);
      b[pos] = static_cast<std::byte>(rng());
    }
    try {
      auto const g = io::Gguf::parse(b);
      ++parsed;
      for (auto const& t : g.tensors()) {
        try {
          CHECK(g.to_float(t).size() == static_cast<std::size_t>(t.n_elements));
        } catch (Error const& e) {
          CHECK_MESSAGE(e.kind() == ErrorKind::kUnsupported, e.what());
        }
      }
    } catch (Error const& e) {
      CHECK_MESSAGE(
          (e.kind() == ErrorKind::kFormat || e.kind() == ErrorKind::kUnsupported), e.what());
    }
  }
  MESSAGE(parsed, " of 3000 mutated files still parsed");
}
