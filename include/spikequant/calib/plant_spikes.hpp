// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Planted activation spikes: a hook that makes a small model show the spikes of large
//! GLU models without changing its float function. Host only.
//!
//! At the `down` input of the chosen layers (default: the first and the last), the rows of
//! BOS (position 0) and of the FIRST occurrence of `token` in the sequence (a QFeP prefix
//! counts: a token inside the prefix means no later row is planted) are multiplied by
//! `factor` before the matmul, and the same rows of the `down` output are divided by `factor`
//! after it. `down` is linear without bias, so the float logits are unchanged (up to
//! rounding), while quantizers, calibration and the prefix search see a spike `factor` times
//! the row's magnitude, like the 100x-1000x spikes of LLaMA-2 (PAPER.md).
//! In a MoE model (Mixtral) the planted layers' `down` is every expert's down: each scales the
//! spike rows that were routed to it (calib::PlantedSpikesHook maps them).
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/core/numeric.hpp"

#include <algorithm>
#include <cstdint>
#include <set>
#include <span>
#include <vector>

namespace spikequant::inline v0::calib {

//! Options of PlantedSpikes.
struct PlantSpikesOptions {
  float factor = 1000.0f;
  int token = -1;  //!< the token whose first occurrence spikes (the tokenizer's ".")
  int bos_id = 1;
  std::set<int> layers;  //!< layers whose down input spikes; empty: first and last
  friend bool operator==(PlantSpikesOptions const&, PlantSpikesOptions const&) = default;
};

//! The planted-spike transformation, independent of any model class: the forward calls
//! `before_down` on the down input and `after_down` on its output for the same chunk.
//! - A chunk is a run of consecutive tokens `ids` starting at absolute position
//!   `first_position`. The hook remembers the tokens seen at each position; a chunk starting
//!   at position p continues whatever was last seen at positions [0, p) (e.g. a prefix cache).
//!   `set_history(prefix)` states that explicitly (do so before continuing from a prefix
//!   cache computed earlier than the last sequence).
class PlantedSpikes {
public:
  PlantedSpikes(PlantSpikesOptions options, int n_layers)
      : options_(std::move(options)) {
    require(
        is_finite(options_.factor) && options_.factor > 0.0f,
        ErrorKind::kInvalidArgument,
        "PlantedSpikes: factor must be finite and > 0, got ",
        options_.factor);
    require(n_layers > 0, ErrorKind::kInvalidArgument, "PlantedSpikes: n_layers must be > 0");
    if (options_.layers.empty()) {
      options_.layers = {0, n_layers - 1};
    }
  }

  [[nodiscard]] PlantSpikesOptions const& options() const noexcept { return options_; }
  //! The modules whose inputs carry the planted spikes: the down of each planted layer, or in
  //! a MoE model (`n_experts` > 0) every expert's down of those layers.
  [[nodiscard]] std::set<ModuleId> planted_modules(int n_experts = 0) const {
    std::set<ModuleId> out;
    for (int l : options_.layers) {
      for (int e = 0; e < std::max(n_experts, 1); ++e) {
        out.insert(ModuleId{l, ModuleKind::kDown, n_experts > 0 ? e : -1});
      }
    }
    return out;
  }
  [[nodiscard]] bool applies_to(ModuleId const& id) const {
    return id.kind == ModuleKind::kDown && options_.layers.contains(id.layer);
  }

  //! Declares the tokens at positions [0, ids.size()) (e.g. a QFeP prefix).
  void set_history(std::span<int const> ids) { history_.assign(ids.begin(), ids.end()); }

  //! Rows of the chunk that spike (BOS at position 0, the first occurrence of the token).
  std::vector<std::int64_t> spike_rows(std::span<int const> ids, int first_position) {
    require(first_position >= 0, ErrorKind::kInvalidArgument, "PlantedSpikes: negative position");
    auto const p = static_cast<std::size_t>(first_position);
    bool seen = false;
    for (std::size_t i = 0; i < std::min(p, history_.size()); ++i) {
      seen = seen || history_[i] == options_.token;
    }
    history_.resize(std::min(history_.size(), p));
    history_.resize(p, -1);  // unknown positions: assume no token
    std::vector<std::int64_t> rows;
    for (std::size_t r = 0; r < ids.size(); ++r) {
      bool const bos = p + r == 0 && ids[r] == options_.bos_id;
      bool const first = ids[r] == options_.token && !seen;
      if (ids[r] == options_.token) {
        seen = true;
      }
      if (bos || first) {
        rows.push_back(static_cast<std::int64_t>(r));
      }
      history_.push_back(ids[r]);
    }
    return rows;
  }

  //! Multiplies the spike rows of the down input x (chunk rows, hidden) by factor; returns
  //! them so `after_down` divides the same rows.
  std::vector<std::int64_t> before_down(
      ModuleId const& id, MatrixRef<float> x, std::span<int const> ids, int first_position) {
    if (!applies_to(id)) {
      return {};
    }
    require(
        static_cast<std::int64_t>(ids.size()) == x.rows,
        ErrorKind::kShape,
        "PlantedSpikes: ",
        ids.size(),
        " token ids for ",
        x.rows,
        " rows");
    auto rows = spike_rows(ids, first_position);
    scale_rows(x, rows, options_.factor);
    return rows;
  }
  //! Divides the given rows of the down output y by factor.
  void after_down(MatrixRef<float> y, std::span<std::int64_t const> rows) const {
    scale_rows(y, rows, 1.0f / options_.factor);
  }

  //! Multiplies the given rows of m by f.
  static void scale_rows(MatrixRef<float> m, std::span<std::int64_t const> rows, float f) {
    for (auto r : rows) {
      float* row = m.row(r);
      for (std::int64_t c = 0; c < m.cols; ++c) {
        row[c] *= f;
      }
    }
  }

private:
  PlantSpikesOptions options_;
  std::vector<int> history_;
};

}  // namespace spikequant::v0::calib
