// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Locates ../shared/data (or $SPIKEQUANT_DATA) for tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace spikequant_test {

//! $SPIKEQUANT_DATA if set, else <source dir>/../shared/data. Empty path when neither exists.
inline std::filesystem::path data_dir() {
  if (char const* env = std::getenv("SPIKEQUANT_DATA"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef SPIKEQUANT_SOURCE_DIR
  std::filesystem::path p = std::filesystem::path(SPIKEQUANT_SOURCE_DIR) / ".." / "shared" / "data";
  if (std::filesystem::exists(p)) {
    return std::filesystem::weakly_canonical(p);
  }
#endif
  return {};
}

//! Path of a file in the test source tree (fixtures committed under test/).
inline std::filesystem::path source_path(std::string const& rel) {
#ifdef SPIKEQUANT_SOURCE_DIR
  return std::filesystem::path(SPIKEQUANT_SOURCE_DIR) / rel;
#else
  return rel;
#endif
}

}  // namespace spikequant_test
