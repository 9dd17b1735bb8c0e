// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file EvalSetup: everything one `spikequant eval` run is made of. run_eval (cmd_eval.hpp)
//! builds it; configure_eval_calib (cmd_calib_common.hpp) edits it: the plan (QFeM
//! exclusions), the prefix (QFeP), the hook (planted spikes), the model weights (SmoothQuant,
//! through model.mutable_weights()), the static scales (a recipe's: static calibration then
//! runs only when a static module has no scale), and `json` (fields added to the --json
//! output and printed as "key: value" lines otherwise). Callbacks pushed onto
//! `after_calibration` run once the plan is final (static scales set), before the evaluation
//! (e.g. writing a recipe).
#pragma once

#include "args.hpp"
#include "common.hpp"
#include "spikequant/model/perplexity.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace spikequant_tool {

//! Everything one eval run is made of (see the file comment).
struct EvalSetup {
  sq::llama::Model& model;
  sq::io::Tokenizer const* tokenizer;  //!< null when eval runs on --tokens without one
  ParsedArgs const& args;
  SchemeChoice scheme;
  //! --bmm (or a recipe's): BMM quantization of q/k/v; whoever rebuilds `plan` sets it again.
  std::optional<sq::ActScheme> bmm = {};
  int seq_len = 256;
  std::int64_t max_tokens = 0;
  std::int64_t calib_samples = 16;
  std::vector<int> eval_stream = {};   //!< the evaluation tokens (no BOS)
  std::vector<int> calib_stream = {};  //!< --calib / --calib-tokens tokens (no BOS); may be empty
  sq::llama::QuantPlan plan = {};      //!< the plan the evaluation runs with
  std::optional<sq::llama::Prefix> prefix = {};      //!< QFeP prefix for eval and calibration
  std::shared_ptr<sq::llama::ModuleHook> hook = {};  //!< active in calibration and eval
  nlohmann::json json = nlohmann::json::object();    //!< extra output fields
  //! Run after static calibration with the final setup (see the file comment).
  std::vector<std::function<void(EvalSetup const&)>> after_calibration = {};

  //! The calibration windows, built like the eval windows (BOS + seq_len - 1 tokens), at
  //! most calib_samples of them. Throws UsageError when there is no calibration text.
  [[nodiscard]] std::vector<std::vector<int>> calib_windows() const {
    if (calib_stream.empty()) {
      throw UsageError("this needs calibration text: pass --calib FILE or --calib-tokens FILE");
    }
    return sq::llama::make_windows(calib_stream, seq_len, model.config().bos_id, calib_samples);
  }
  //! ForwardOptions carrying the hook (plan left null = the caller's choice).
  [[nodiscard]] sq::llama::ForwardOptions forward_options() const {
    sq::llama::ForwardOptions o;
    o.hook = hook.get();
    return o;
  }
};

}  // namespace spikequant_tool
