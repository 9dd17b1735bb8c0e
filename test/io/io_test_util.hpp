// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Helpers for the io tests: temporary folders, raw file access, error-kind checks.
#pragma once

#include "common/data.hpp"
#include "spikequant/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace spikequant_test {

//! A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
public:
  explicit TempDir(std::string const& tag) {
    std::random_device rd;
    path_ =
        std::filesystem::temp_directory_path() / ("spikequant_" + tag + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(TempDir const&) = delete;
  TempDir& operator=(TempDir const&) = delete;
  [[nodiscard]] std::filesystem::path const& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string const& name) const {
    return path_ / name;
  }

private:
  std::filesystem::path path_;
};

inline void write_bytes(std::filesystem::path const& p, std::vector<std::byte> const& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(
      reinterpret_cast<char const*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline void write_text(std::filesystem::path const& p, std::string const& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

//! Whole file via fread (independent of the library's reader).
inline std::vector<std::byte> slurp(std::filesystem::path const& p) {
  std::vector<std::byte> out;
  std::FILE* f = std::fopen(p.string().c_str(), "rb");
  REQUIRE(f != nullptr);
  std::byte buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.insert(out.end(), buf, buf + n);
  }
  std::fclose(f);
  return out;
}

//! `count` floats at byte `offset` of a file, read with fseek + fread.
inline std::vector<float>
fread_floats(std::filesystem::path const& p, long offset, std::size_t count) {
  std::vector<float> out(count);
  std::FILE* f = std::fopen(p.string().c_str(), "rb");
  REQUIRE(f != nullptr);
  REQUIRE(std::fseek(f, offset, SEEK_SET) == 0);
  REQUIRE(std::fread(out.data(), sizeof(float), count, f) == count);
  std::fclose(f);
  return out;
}

template <class T>
void append_pod(std::vector<std::byte>& out, T const& v) {
  std::byte raw[sizeof(T)];
  std::memcpy(raw, &v, sizeof(T));
  out.insert(out.end(), raw, raw + sizeof(T));
}

inline std::vector<std::byte> to_bytes(std::string const& s) {
  std::vector<std::byte> out(s.size());
  if (!s.empty()) {
    std::memcpy(out.data(), s.data(), s.size());
  }
  return out;
}

//! The path of a shared data file, or empty (with a MESSAGE) when the data is absent.
inline std::filesystem::path shared_file(std::string const& rel) {
  auto const dir = data_dir();
  auto const p = dir / rel;
  if (dir.empty() || !std::filesystem::exists(p)) {
    MESSAGE("skipped: shared data file '", rel, "' not found (set SPIKEQUANT_DATA)");
    return {};
  }
  return p;
}

}  // namespace spikequant_test

//! Checks that `expr` throws spikequant::Error of kind `k`.
#define SPIKEQUANT_CHECK_ERROR_KIND(expr, k)                                                       \
  do {                                                                                             \
    bool threw_ = false;                                                                           \
    try {                                                                                          \
      (void)(expr);                                                                                \
    } catch (::spikequant::Error const& e_) {                                                      \
      threw_ = true;                                                                               \
      CHECK_MESSAGE(                                                                               \
          e_.kind() == (k), "kind ", ::spikequant::to_string(e_.kind()), ": ", e_.what());         \
    }                                                                                              \
    CHECK_MESSAGE(threw_, "expected spikequant::Error from " #expr);                               \
  } while (0)
