// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file What calibration and experiments attach to llama::Model::forward: the context a
//! module's rows come with, observers (read module inputs), hooks (modify inputs / outputs)
//! and the per-call options.
#pragma once

#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/model/quant_plan.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace spikequant::inline v0::llama {

//! What hooks and observers learn about the rows of the matrix they see.
//! - Dense modules: row r of a module input is row r of the forward, token `tokens[r]` at
//!   absolute position `start_pos + r`; `rows` is empty.
//! - MoE expert modules (ModuleId::expert >= 0) see only the rows routed to the expert: row r
//!   of their input is row `rows[r]` of the forward (ascending), so token
//!   `tokens[rows[r]]` at position `start_pos + rows[r]`. Use sequence_row / token / position,
//!   which cover both cases.
struct ForwardContext {
  int layer = 0;                //!< the layer being run
  int start_pos = 0;            //!< absolute position of the forward's row 0 (cache length)
  std::span<int const> tokens;  //!< the token ids of the forward's rows (all of them)
  std::span<int const> rows;    //!< expert modules: forward rows of the input rows; else empty
  //! The forward row (index into `tokens`) of row `row` of the module input.
  [[nodiscard]] int sequence_row(std::int64_t row) const noexcept {
    return rows.empty() ? static_cast<int>(row) : rows[static_cast<std::size_t>(row)];
  }
  //! The token id of row `row` of the module input.
  [[nodiscard]] int token(std::int64_t row) const noexcept {
    return tokens[static_cast<std::size_t>(sequence_row(row))];
  }
  //! The absolute position of row `row` of the module input.
  [[nodiscard]] int position(std::int64_t row) const noexcept {
    return start_pos + sequence_row(row);
  }
};

//! Called with the input of a linear module, (tokens, in_features), after ModuleHook::before.
//! It is called once for EVERY module, siblings included: q, k and v each receive the same
//! attention-norm output, gate and up the same FFN-norm output. Statistics code that needs one
//! entry per sibling group keeps `representative(id.kind) == id.kind` (q, o, up, down).
//! MoE experts: called for an expert's gate, up and down only when at least one row is routed
//! to it, with those rows only (ForwardContext::rows says which).
using ModuleObserver =
    std::function<void(ModuleId const& id, MatrixRef<float const> input, ForwardContext const&)>;

//! Modifies module inputs before the matmul and outputs after it (planted spikes, smoothing
//! experiments). Default implementations do nothing.
//! - `before` is called ONCE per sibling group, with the group's representative id (q for
//!   {q,k,v}, up for {gate,up}, o, down), on the shared input buffer (tokens, in_features):
//!   what it writes is what all siblings multiply (and what observers see).
//! - `after` is called for every module, siblings included, on its output (tokens, out).
//! - MoE experts: both run per expert on the routed rows only (a copy of them for the
//!   expert's {gate,up}); `after` of an expert's down sees its output before the routing
//!   weight is applied.
class ModuleHook {
public:
  virtual ~ModuleHook() = default;
  virtual void before(ModuleId const& id, MatrixRef<float> input, ForwardContext const& ctx) {
    (void)id;
    (void)input;
    (void)ctx;
  }
  virtual void after(ModuleId const& id, MatrixRef<float> output, ForwardContext const& ctx) {
    (void)id;
    (void)output;
    (void)ctx;
  }
};

//! Per-call knobs of Model::forward. All optional.
struct ForwardOptions {
  //! Plan for this call; null uses the model's own plan (Model::plan()).
  QuantPlan const* plan = nullptr;
  //! Sees the input of every linear module (see ModuleObserver).
  ModuleObserver observer = {};
  //! Modifies inputs/outputs (see ModuleHook); not owned.
  ModuleHook* hook = nullptr;
  //! Run layers 0..stop_after_layer only, then return: no final norm, no logits, and the
  //! cache's length() is NOT advanced (later layers were not written). -1 runs all layers.
  int stop_after_layer = -1;
};

}  // namespace spikequant::v0::llama
