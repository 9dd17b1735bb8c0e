// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Source locations of emulated operations: what every checker report names.
#pragma once

#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>

namespace spikequant::inline v0::simt {

//! Where an emulated operation was called from (the kernel's line, not the wrapper's).
using Site = std::source_location;

//! "file.cuh:123" (the file's base name keeps reports readable).
inline std::string where(Site const& s) {
  std::string_view f = s.file_name();
  if (auto const slash = f.rfind('/'); slash != std::string_view::npos) {
    f.remove_prefix(slash + 1);
  }
  return std::string(f) + ":" + std::to_string(s.line());
}

//! Same call site: same file, line and column.
inline bool same_site(Site const& a, Site const& b) noexcept {
  return a.line() == b.line() && a.column() == b.column() &&
         std::string_view(a.file_name()) == std::string_view(b.file_name());
}

}  // namespace spikequant::v0::simt
