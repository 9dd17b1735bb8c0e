// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file read_text_file(): a whole text file as bytes (UTF-8 is passed through unchanged).
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

namespace spikequant::inline v0::io {

//! The whole file as a string, unchanged (no newline conversion).
//! @throws Error kIo if it cannot be read, kFormat if empty or larger than `max_bytes`.
inline std::string
read_text_file(std::filesystem::path const& path, std::int64_t max_bytes = std::int64_t{4} << 30) {
  auto const bytes = detail::read_file(path, max_bytes);
  require(!bytes.empty(), ErrorKind::kFormat, "'", path.string(), "' is empty");
  return std::string(detail::as_chars(bytes));
}

}  // namespace spikequant::v0::io
