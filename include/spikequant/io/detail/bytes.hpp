// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Bounds-checked byte access for the file readers: checked int64 arithmetic, whole-file
//! reads with a size cap, and a cursor that never reads past its buffer.
#pragma once

#include "spikequant/core/error.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace spikequant::inline v0::io {

//! Largest file the readers load into memory unless told otherwise (64 GiB).
inline constexpr std::int64_t kDefaultMaxFileBytes = std::int64_t{64} << 30;

namespace detail {

static_assert(
    std::endian::native == std::endian::little, "spikequant io assumes a little-endian host");
static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559);

//! a * b for non-negative int64, throwing kFormat (naming `what`) on overflow.
inline std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what) {
  require(a >= 0 && b >= 0, ErrorKind::kFormat, what, ": negative size (", a, " x ", b, ")");
  std::int64_t r = 0;
  require(
      !__builtin_mul_overflow(a, b, &r),
      ErrorKind::kFormat,
      what,
      ": size overflows (",
      a,
      " x ",
      b,
      ")");
  return r;
}

//! a + b for non-negative int64, throwing kFormat (naming `what`) on overflow.
inline std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view what) {
  require(a >= 0 && b >= 0, ErrorKind::kFormat, what, ": negative size (", a, " + ", b, ")");
  std::int64_t r = 0;
  require(
      !__builtin_add_overflow(a, b, &r),
      ErrorKind::kFormat,
      what,
      ": size overflows (",
      a,
      " + ",
      b,
      ")");
  return r;
}

//! Size of a regular file, or kIo naming the path.
inline std::int64_t file_bytes(std::filesystem::path const& path) {
  std::error_code ec;
  auto const status = std::filesystem::status(path, ec);
  require(
      !ec && std::filesystem::exists(status),
      ErrorKind::kIo,
      "cannot open '",
      path.string(),
      "': no such file");
  require(
      std::filesystem::is_regular_file(status),
      ErrorKind::kIo,
      "cannot read '",
      path.string(),
      "': not a regular file");
  auto const size = std::filesystem::file_size(path, ec);
  require(!ec, ErrorKind::kIo, "cannot stat '", path.string(), "': ", ec.message());
  require(
      size <= static_cast<std::uintmax_t>(std::numeric_limits<std::int64_t>::max()),
      ErrorKind::kIo,
      "file too large: '",
      path.string(),
      "'");
  return static_cast<std::int64_t>(size);
}

//! Reads `length` bytes at `offset` of an open stream into `out` (kIo on a short read).
inline void read_range(
    std::ifstream& in,
    std::filesystem::path const& path,
    std::int64_t offset,
    std::span<std::byte> out) {
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  require(
      in.good() && in.gcount() == static_cast<std::streamsize>(out.size()),
      ErrorKind::kIo,
      "short read of '",
      path.string(),
      "': wanted ",
      out.size(),
      " bytes at offset ",
      offset);
}

//! Whole file into memory; kIo if missing or unreadable, kFormat if larger than `max_bytes`.
inline std::vector<std::byte>
read_file(std::filesystem::path const& path, std::int64_t max_bytes = kDefaultMaxFileBytes) {
  std::int64_t const size = file_bytes(path);
  require(
      size <= max_bytes,
      ErrorKind::kFormat,
      "'",
      path.string(),
      "' is ",
      size,
      " bytes, more than the limit of ",
      max_bytes);
  std::ifstream in(path, std::ios::binary);
  require(in.is_open(), ErrorKind::kIo, "cannot open '", path.string(), "'");
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  if (size > 0) {
    read_range(in, path, 0, bytes);
  }
  return bytes;
}

//! Reads little-endian scalars and arrays from a byte span, checking every access.
//! Errors are kFormat and name `what_` and the offset.
class ByteCursor {
public:
  ByteCursor(std::span<std::byte const> bytes, std::string_view what)
      : bytes_(bytes)
      , what_(what) {}

  [[nodiscard]] std::int64_t offset() const noexcept { return pos_; }
  [[nodiscard]] std::int64_t size() const noexcept {
    return static_cast<std::int64_t>(bytes_.size());
  }
  [[nodiscard]] std::int64_t remaining() const noexcept { return size() - pos_; }

  //! The next `n` bytes, advancing past them.
  std::span<std::byte const> take(std::int64_t n, std::string_view field) {
    require(
        n >= 0 && n <= remaining(),
        ErrorKind::kFormat,
        what_,
        ": truncated reading ",
        field,
        " (",
        n,
        " bytes at offset ",
        pos_,
        ", ",
        remaining(),
        " left)");
    auto const out = bytes_.subspan(static_cast<std::size_t>(pos_), static_cast<std::size_t>(n));
    pos_ += n;
    return out;
  }

  template <class T>
  T read(std::string_view field) {
    static_assert(std::is_trivially_copyable_v<T>);
    auto const raw = take(static_cast<std::int64_t>(sizeof(T)), field);
    T value;
    std::memcpy(&value, raw.data(), sizeof(T));
    return value;
  }

  //! `count` little-endian floats.
  std::vector<float> read_floats(std::int64_t count, std::string_view field) {
    auto const raw = take(checked_mul(count, 4, field), field);
    std::vector<float> out(static_cast<std::size_t>(count));
    if (count > 0) {
      std::memcpy(out.data(), raw.data(), raw.size());
    }
    return out;
  }

  void seek(std::int64_t pos) {
    require(
        pos >= 0 && pos <= size(), ErrorKind::kFormat, what_, ": offset ", pos, " out of range");
    pos_ = pos;
  }

private:
  std::span<std::byte const> bytes_;
  std::string_view what_;
  std::int64_t pos_ = 0;
};

//! Views raw bytes as text.
inline std::string_view as_chars(std::span<std::byte const> bytes) noexcept {
  return {reinterpret_cast<char const*>(bytes.data()), bytes.size()};
}

}  // namespace detail
}  // namespace spikequant::v0::io
