// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file `spikequant eval`: perplexity under the exact protocol of model/perplexity.hpp, for
//! fp32 and the W8A8 schemes, with static scales calibrated on --calib text, optionally with
//! BMM quantization of q/k/v (--bmm, QuantPlan::bmm).
//!
//! The calibration flags (--qfem, --qfep, --smoothquant, --recipe, --write-recipe,
//! --plant-spikes, --plant-token) come from cmd_calib_common.hpp: add_eval_calib_options()
//! adds them to the parser, configure_eval_calib() edits the EvalSetup (eval_setup.hpp) after
//! the base plan is built and before static calibration.
#pragma once

#include "cmd_calib_common.hpp"
#include "common.hpp"
#include "eval_setup.hpp"
#include "progress.hpp"
#include "spikequant/model/perplexity.hpp"

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

namespace spikequant_tool {

inline ArgParser eval_parser() {
  ArgParser p(
      "eval",
      "Perplexity of a text (or token file) under a quantization scheme. The stream (no BOS) is\n"
      "cut into chunks of seq-len - 1 tokens; each window BOS + chunk is one forward on a fresh\n"
      "KV cache and every chunk token is scored; ppl = exp(mean NLL).");
  p.option(
       "model",
       "PATH",
       "llama2.c .bin file, Llama .gguf file or Hugging Face directory",
       default_model_path())
      .option("tokenizer", "FILE", "tokenizer (default: the one beside the model)")
      .option("text", "FILE", "evaluation text (tokenized without BOS)")
      .option("tokens", "FILE", "evaluation token ids (whitespace-separated), instead of --text")
      .option("seq-len", "L", "window length including BOS", "256")
      .option("max-tokens", "N", "evaluate only the first N tokens of the stream (0: all)", "0")
      .option("scheme", "S", kSchemeNames, "fp32")
      .option("calib", "FILE", "calibration text for w8a8-static (windows built like eval's)")
      .option("calib-tokens", "FILE", "calibration token ids, instead of --calib")
      .option("calib-samples", "N", "number of calibration windows", "16")
      .option(
          "bmm",
          "off|per-tensor|per-token",
          "BMM quantization (paper appendix B): fake-quantize the q/k/v outputs (cached keys and "
          "values included) to int8 with a dynamic scale, whatever --scheme is",
          "off")
      .flag("json", "print one JSON object instead of text");
  add_eval_calib_options(p);
  p.epilog("example: spikequant eval --text ../shared/data/text/tinystories_val.txt "
           "--scheme w8a8-per-tensor --json\n");
  return p;
}

inline int run_eval(std::span<std::string const> words) {
  ArgParser const parser = eval_parser();
  ParsedArgs const args = parser.parse(words);
  if (args.help()) {
    std::cout << parser.usage();
    return 0;
  }
  if (args.has("text") == args.has("tokens")) {
    throw UsageError("eval needs exactly one of --text FILE or --tokens FILE");
  }
  if (args.has("calib") && args.has("calib-tokens")) {
    throw UsageError("give --calib or --calib-tokens, not both");
  }
  std::int64_t const seq_len = args.get_int("seq-len");
  if (seq_len < 2 || seq_len > 1'000'000) {
    throw UsageError(
        "--seq-len must be >= 2 (BOS + at least one scored token), got " + std::to_string(seq_len));
  }
  std::int64_t const max_tokens = args.get_int("max-tokens");
  if (max_tokens < 0) {
    throw UsageError("--max-tokens must be >= 0");
  }
  std::int64_t const calib_samples = args.get_int("calib-samples");
  if (calib_samples < 1) {
    throw UsageError("--calib-samples must be >= 1");
  }
  SchemeChoice const scheme = parse_scheme(args.get("scheme"));
  std::optional<sq::ActScheme> const bmm = bmm_flag(args);
  bool const has_calib = args.has("calib") || args.has("calib-tokens");
  // Static scales may also come from a recipe (an extension's --recipe); without either,
  // fail before loading anything.
  if (scheme.act == sq::ActScheme::kStatic && !has_calib && !args.has("recipe")) {
    throw UsageError("w8a8-static needs calibration text: pass --calib FILE (or --calib-tokens)");
  }

  std::string const model_path = args.get("model");
  sq::llama::Model model(load_weights(model_path));
  bool const need_tok = args.has("text") || args.has("calib");
  auto const tok = load_tokenizer_for(args, model_path, model.config().vocab_size, need_tok);

  warn_past_trained_positions(model.config(), seq_len, "--seq-len " + std::to_string(seq_len));
  EvalSetup setup{model, tok ? &*tok : nullptr, args, scheme, bmm};
  setup.seq_len = static_cast<int>(seq_len);
  setup.max_tokens = max_tokens;
  setup.calib_samples = calib_samples;
  setup.eval_stream = args.has("text") ? text_file_tokens(args.get("text"), *tok)
                                       : tokens_file_tokens(args.get("tokens"));
  if (setup.eval_stream.empty()) {
    sq::fail(sq::ErrorKind::kInvalidArgument, "the evaluation text has no tokens");
  }
  model.check_tokens(setup.eval_stream);
  if (args.has("calib")) {
    setup.calib_stream = text_file_tokens(args.get("calib"), *tok);
  } else if (args.has("calib-tokens")) {
    setup.calib_stream = tokens_file_tokens(args.get("calib-tokens"));
  }
  if (has_calib) {
    sq::require(
        !setup.calib_stream.empty(),
        sq::ErrorKind::kInvalidArgument,
        "the calibration text has no tokens");
    model.check_tokens(setup.calib_stream);
  }
  setup.plan = scheme.plan();
  setup.plan.set_bmm(setup.bmm);

  configure_eval_calib(setup);
  setup.plan.set_bmm(setup.bmm);  // a recipe or --qfem may have replaced the plan or the setting

  sq::llama::Prefix const* prefix = setup.prefix ? &*setup.prefix : nullptr;
  bool missing_scale = false;  // a static module without a scale (none came from a recipe)
  for (auto const& id : model.module_ids()) {
    auto const q = setup.plan.get(id);
    missing_scale = missing_scale || (q.mode == sq::LinearMode::kW8A8 &&
                                      q.act == sq::ActScheme::kStatic && !(q.static_scale > 0.0f));
  }
  if (missing_scale) {
    if (setup.calib_stream.empty()) {
      throw UsageError("w8a8-static needs calibration text: pass --calib FILE (or --calib-tokens)");
    }
    auto const windows = setup.calib_windows();
    ProgressBar bar("calibrate");
    auto const scales = sq::llama::calibrate_static_scales(
        model, windows, setup.forward_options(), prefix, [&](std::size_t d, std::size_t n) {
          bar.update(d, n);
        });
    bar.finish();
    setup.plan.set_static_scales(scales);
    setup.json["calib_windows"] = windows.size();
  }
  for (auto const& f : setup.after_calibration) {
    f(setup);
  }

  sq::llama::PerplexityOptions po;
  po.seq_len = setup.seq_len;
  po.max_tokens = setup.max_tokens;
  po.forward = setup.forward_options();
  po.forward.plan = &setup.plan;
  po.prefix = prefix;
  ProgressBar bar("eval");
  po.on_window = [&](std::size_t d, std::size_t n) { bar.update(d, n); };
  auto const r = sq::llama::perplexity(model, setup.eval_stream, po);
  bar.finish();

  nlohmann::json j = {
      {"scheme", setup.scheme.name},
      {"bmm", std::string(sq::llama::bmm_name(setup.bmm))},
      {"ppl", r.ppl},
      {"nll", r.nll},
      {"tokens", r.tokens},
      {"windows", r.windows},
      {"seq_len", setup.seq_len},
      {"model", model_path}};
  for (auto const& [k, v] : setup.json.items()) {
    j[k] = v;
  }
  if (args.flag("json")) {
    std::cout << j.dump() << "\n";
  } else {
    std::printf(
        "%s: ppl %.4f  (nll %.5f over %lld tokens, %lld windows of <= %d)\n",
        setup.scheme.name.c_str(),
        r.ppl,
        r.nll,
        static_cast<long long>(r.tokens),
        static_cast<long long>(r.windows),
        setup.seq_len);
    if (setup.bmm) {
      std::cout << "bmm: " << sq::llama::bmm_name(setup.bmm) << "\n";
    }
    for (auto const& [k, v] : setup.json.items()) {
      std::cout << k << ": " << v.dump() << "\n";
    }
  }
  return 0;
}

}  // namespace spikequant_tool
