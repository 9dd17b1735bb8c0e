// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The calibration area's subcommands (calibrate, report, export) and eval flags (--qfem,
//! --qfep, --smoothquant, --recipe, --write-recipe, --plant-spikes, --plant-token), registered
//! through the hook main.cpp includes when this file exists.
#pragma once

#include "cmd_calib_common.hpp"
#include "cmd_calibrate.hpp"
#include "cmd_export.hpp"
#include "cmd_report.hpp"
#include "commands.hpp"

namespace spikequant_tool {

inline void register_calib_commands(Registry& r) {
  r.add({"calibrate", "token-wise scale statistics, r(m), top tokens, plots", run_calibrate});
  r.add(
      {"report",
       "the paper's Table 3 analog on stories260K (real and planted spikes)",
       run_report});
  r.add(
      {"export",
       "write a compressed-tensors Hugging Face folder (vLLM, llm-compressor) from a recipe",
       run_export});
  eval_extensions().push_back({add_eval_calib_options, configure_eval_calib});
}

}  // namespace spikequant_tool
