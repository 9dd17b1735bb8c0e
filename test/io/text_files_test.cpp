// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Text files, token-id files and the data-folder lookup.
#include "io_test_util.hpp"
#include "spikequant/io/data_path.hpp"
#include "spikequant/io/text_file.hpp"
#include "spikequant/io/tokens_file.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace spikequant;

TEST_CASE("text files: whole content unchanged, empty or missing are errors") {
  spikequant_test::TempDir dir("text");
  std::string const text = "line one\r\nline two \xC3\xA9\n\n";
  spikequant_test::write_text(dir / "a.txt", text);
  CHECK(io::read_text_file(dir / "a.txt") == text);
  spikequant_test::write_text(dir / "empty.txt", "");
  SPIKEQUANT_CHECK_ERROR_KIND(io::read_text_file(dir / "empty.txt"), ErrorKind::kFormat);
  SPIKEQUANT_CHECK_ERROR_KIND(io::read_text_file(dir / "missing.txt"), ErrorKind::kIo);
  SPIKEQUANT_CHECK_ERROR_KIND(io::read_text_file(dir.path()), ErrorKind::kIo);
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::read_text_file(dir / "a.txt", 4), ErrorKind::kFormat);  // over the cap
  auto const wiki = spikequant_test::shared_file("text/wikitext2_test.raw");
  if (!wiki.empty()) {
    auto const raw = spikequant_test::slurp(wiki);
    auto const got = io::read_text_file(wiki);
    REQUIRE(got.size() == raw.size());
    CHECK(std::memcmp(got.data(), raw.data(), raw.size()) == 0);
  }
}

TEST_CASE("token files: whitespace-separated int32, anything else is a format error") {
  using V = std::vector<std::int32_t>;
  CHECK(io::parse_tokens("1 2\t3\n\r\n 40000  -5\n") == V{1, 2, 3, 40000, -5});
  CHECK(io::parse_tokens("").empty());
  CHECK(io::parse_tokens("2147483647") == V{2147483647});
  for (auto const* bad : {"1 2x", "1.5", "abc", "2147483648", "-2147483649", "+3", "1,2", "0x10"}) {
    CAPTURE(bad);
    SPIKEQUANT_CHECK_ERROR_KIND(io::parse_tokens(bad), ErrorKind::kFormat);
  }
  spikequant_test::TempDir dir("tokens");
  spikequant_test::write_text(dir / "t.txt", "1 306 4658\n278\n");
  CHECK(io::read_tokens_file(dir / "t.txt") == V{1, 306, 4658, 278});
  spikequant_test::write_text(dir / "blank.txt", " \n\t\n");
  SPIKEQUANT_CHECK_ERROR_KIND(io::read_tokens_file(dir / "blank.txt"), ErrorKind::kFormat);
  SPIKEQUANT_CHECK_ERROR_KIND(io::read_tokens_file(dir / "none.txt"), ErrorKind::kIo);
}

TEST_CASE("find_data_dir: SPIKEQUANT_DATA wins, else ../shared/data") {
  char const* old = std::getenv("SPIKEQUANT_DATA");
  std::string const saved = old ? old : "";
  ::setenv("SPIKEQUANT_DATA", "/some/where", 1);
  CHECK(io::find_data_dir() == std::filesystem::path("/some/where"));
  ::unsetenv("SPIKEQUANT_DATA");
  auto const found = io::find_data_dir();
  auto const expected = spikequant_test::data_dir();  // the test harness's own lookup
  if (!expected.empty()) {
    CHECK(std::filesystem::equivalent(found, expected));
  }
  if (!saved.empty()) {
    ::setenv("SPIKEQUANT_DATA", saved.c_str(), 1);
  }
}
