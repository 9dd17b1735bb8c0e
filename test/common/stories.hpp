// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file stories260K loaded once per test program, shared by the model and calib tests.
#pragma once

#include "common/data.hpp"
#include "spikequant/io/llama2c.hpp"
#include "spikequant/model/model.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <optional>

namespace spikequant_test {

inline std::filesystem::path stories_dir() {
  auto const d = data_dir();
  return d.empty() ? d : d / "models" / "stories260K";
}

//! stories260K as a Model, loaded once per test program; nullopt (and a MESSAGE) without data.
inline spikequant::llama::Model const* stories_model() {
  static std::optional<spikequant::llama::Model> model =
      []() -> std::optional<spikequant::llama::Model> {
    auto const p = stories_dir() / "stories260K.bin";
    if (stories_dir().empty() || !std::filesystem::exists(p)) {
      return std::nullopt;
    }
    return spikequant::llama::Model(spikequant::io::load_llama2c(p));
  }();
  return model ? &*model : nullptr;
}

//! stories260K, or a failed REQUIRE naming the missing data.
inline spikequant::llama::Model const& require_stories_model() {
  auto const* m = stories_model();
  REQUIRE_MESSAGE(m != nullptr, "stories260K.bin not found: set SPIKEQUANT_DATA");
  return *m;
}

}  // namespace spikequant_test
