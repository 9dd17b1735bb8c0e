// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file A read-only view of a whole file: memory-mapped on POSIX systems (pages are read on
//! first touch, so opening a 100 MB checkpoint to read its header costs little), read into
//! memory elsewhere.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#if __has_include(<sys/mman.h>) && __has_include(<fcntl.h>) && __has_include(<unistd.h>)
#  include <cerrno>
#  include <cstring>
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#  include <unistd.h>
#  define SPIKEQUANT_IO_HAS_MMAP 1
#else
#  define SPIKEQUANT_IO_HAS_MMAP 0
#endif

namespace spikequant::inline v0::io {

//! The bytes of a file, valid while the object or a copy of it lives (copies share the
//! mapping).
//! - The size is taken once at open: a file truncated by another process while mapped can
//!   raise SIGBUS on access (the usual caveat of mmap; llama.cpp has the same).
class MappedFile {
public:
  //! Maps (or reads) `path`; kIo if it is missing, not a regular file or cannot be mapped.
  static MappedFile open(std::filesystem::path const& path) {
    MappedFile f;
    f.path_ = path;
    std::int64_t const size = detail::file_bytes(path);
#if SPIKEQUANT_IO_HAS_MMAP
    if (size > 0) {
      int const fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      require(fd >= 0, ErrorKind::kIo, "cannot open '", path.string(), "': ", std::strerror(errno));
      void* p = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
      int const map_errno = errno;
      ::close(fd);  // the mapping keeps the file referenced
      require(
          p != MAP_FAILED,
          ErrorKind::kIo,
          "cannot map '",
          path.string(),
          "': ",
          std::strerror(map_errno));
      f.map_ = std::shared_ptr<void>(
          p, [size](void* q) { ::munmap(q, static_cast<std::size_t>(size)); });
      f.bytes_ = {static_cast<std::byte const*>(p), static_cast<std::size_t>(size)};
    }
#else
    auto data = std::make_shared<std::vector<std::byte>>(detail::read_file(path));
    f.bytes_ = {data->data(), data->size()};
    f.map_ = std::move(data);
#endif
    return f;
  }

  //! Wraps bytes already in memory (copied), so parsers can treat both cases alike.
  static MappedFile from_bytes(std::span<std::byte const> bytes) {
    MappedFile f;
    auto data = std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end());
    f.bytes_ = {data->data(), data->size()};
    f.map_ = std::move(data);
    return f;
  }

  [[nodiscard]] std::span<std::byte const> bytes() const noexcept {
    return bytes_;
  }
  [[nodiscard]] std::int64_t size() const noexcept {
    return static_cast<std::int64_t>(bytes_.size());
  }
  //! The path it was opened from (empty for from_bytes).
  [[nodiscard]] std::filesystem::path const& path() const noexcept {
    return path_;
  }

private:
  MappedFile() = default;
  std::filesystem::path path_;
  std::shared_ptr<void> map_;  // owns the mapping or the vector; copies share it
  std::span<std::byte const> bytes_;
};

}  // namespace spikequant::v0::io
