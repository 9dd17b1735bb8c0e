// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file find_data_dir(): where the shared models, tokenizers and texts live.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace spikequant::inline v0::io {

//! The data folder: $SPIKEQUANT_DATA if set and non-empty; else ../shared/data relative to
//! the current directory; else <SPIKEQUANT_SOURCE_DIR>/../shared/data when that macro is
//! defined at compile time; else an empty path. Existing paths come back canonical.
inline std::filesystem::path find_data_dir() {
  namespace fs = std::filesystem;
  if (char const* env = std::getenv("SPIKEQUANT_DATA"); env != nullptr && *env != '\0') {
    return fs::path(env);
  }
  std::error_code ec;
  auto const usable = [&](fs::path const& p) { return fs::is_directory(p, ec); };
  auto const canonical = [&](fs::path const& p) {
    auto c = fs::weakly_canonical(p, ec);
    return ec ? p : c;
  };
  if (fs::path const p = fs::path("..") / "shared" / "data"; usable(p)) {
    return canonical(p);
  }
#if defined(SPIKEQUANT_SOURCE_DIR)
  if (fs::path const p = fs::path(SPIKEQUANT_SOURCE_DIR) / ".." / "shared" / "data"; usable(p)) {
    return canonical(p);
  }
#endif
  return {};
}

}  // namespace spikequant::v0::io
