// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file `spikequant calibrate`: token-wise scale statistics of every sibling group
//! (representatives q, o, up, down; MoE: up and down per expert, over its routed tokens) over
//! calibration windows, as a table, JSON and SVG plots.
#pragma once

#include "cmd_calib_common.hpp"
#include "spikequant/calib/plot_svg.hpp"

#include <cstdio>
#include <iostream>

namespace spikequant_tool {

inline ArgParser calibrate_parser() {
  ArgParser p(
      "calibrate",
      "Float forwards over calibration windows (BOS + seq-len - 1 tokens each): per module the\n"
      "max token-wise scale, the median (lower middle), r(m) = mean over windows of max/median,\n"
      "and the tokens carrying the largest scales.");
  p.option(
       "model",
       "PATH",
       "llama2.c .bin file, Llama .gguf file or Hugging Face directory",
       default_model_path())
      .option("tokenizer", "FILE", "tokenizer (default: the one beside the model)")
      .option("calib", "FILE", "calibration text (tokenized without BOS)")
      .option("calib-tokens", "FILE", "calibration token ids instead of --calib")
      .option("calib-samples", "N", "number of calibration windows", "16")
      .option("seq-len", "L", "window length including BOS", "256")
      .option("top", "K", "top tokens listed per module", "3")
      .option("json", "OUT", "write the statistics as JSON to OUT")
      .option("plots", "DIR", "write fig1_layer_max.svg and fig2_token_scales.svg to DIR")
      .option(
          "recipe",
          "OUT",
          "write a w8a8-static recipe (the static scales of every module, the planted spikes) to "
          "OUT; `eval --recipe OUT` with the same --seq-len then needs no --calib");
  add_plant_options(p);
  return p;
}

inline int run_calibrate(std::span<std::string const> words) {
  ArgParser const parser = calibrate_parser();
  ParsedArgs const args = parser.parse(words);
  if (args.help()) {
    std::cout << parser.usage();
    return 0;
  }
  if (args.has("calib") == args.has("calib-tokens")) {
    throw UsageError("calibrate needs exactly one of --calib FILE or --calib-tokens FILE");
  }
  auto const seq_len = args.get_int("seq-len");
  auto const samples = args.get_int("calib-samples");
  auto const top = args.get_int("top");
  if (seq_len < 2 || samples < 1 || top < 0) {
    throw UsageError("--seq-len must be >= 2, --calib-samples >= 1, --top >= 0");
  }
  std::string const model_path = args.get("model");
  sq::llama::Model model(load_weights(model_path));
  auto const tok =
      load_tokenizer_for(args, model_path, model.config().vocab_size, args.has("calib"));
  sq::io::Tokenizer const* tp = tok ? &*tok : nullptr;
  auto const stream = args.has("calib") ? text_file_tokens(args.get("calib"), *tok)
                                        : tokens_file_tokens(args.get("calib-tokens"));
  sq::require(
      !stream.empty(), sq::ErrorKind::kInvalidArgument, "the calibration text has no tokens");
  model.check_tokens(stream);
  auto const windows =
      sq::llama::make_windows(stream, static_cast<int>(seq_len), model.config().bos_id, samples);
  auto const hook = make_plant_hook(args, model, tp);
  calib::CollectOptions co;
  co.hook = hook.get();
  co.observer.top_k = std::max<int>(static_cast<int>(top) * 8, 16);
  auto const cal = calib::collect_statistics(model, windows, co);

  std::printf(
      "calibration: %zu windows, %lld tokens%s\n",
      windows.size(),
      static_cast<long long>(cal.tokens),
      hook ? " (planted spikes)" : "");
  int const kind_width = model.config().n_experts > 0 ? 8 : 5;  // "e12.down" in MoE models
  std::printf(
      "%-5s %-*s %12s %12s %10s  %s\n",
      "layer",
      kind_width,
      "kind",
      "max",
      "median",
      "r(m)",
      "top tokens (text@pos: scale)");
  nlohmann::json mods = nlohmann::json::array();
  for (auto const& st : cal.stats) {
    std::string tops;
    nlohmann::json tj = nlohmann::json::array();
    for (std::size_t i = 0; i < st.top_tokens.size() && static_cast<std::int64_t>(i) < top; ++i) {
      auto const& t = st.top_tokens[i];
      char buf[96];
      std::snprintf(
          buf, sizeof(buf), "'%s'@%d: %.3g", token_text(tp, t.token).c_str(), t.position, t.scale);
      if (i > 0) {
        tops += ", ";
      }
      tops += buf;
      tj.push_back(
          {{"token", t.token},
           {"text", token_text(tp, t.token)},
           {"position", t.position},
           {"sequence", t.sequence},
           {"scale", t.scale}});
    }
    std::string const kind = st.id.is_expert() ? "e" + std::to_string(st.id.expert) + "." +
                                                     std::string(sq::to_string(st.id.kind))
                                               : std::string(sq::to_string(st.id.kind));
    std::printf(
        "%-5d %-*s %12.4g %12.4g %10.3f  %s\n",
        st.id.layer,
        kind_width,
        kind.c_str(),
        st.max,
        st.median,
        st.ratio,
        tops.c_str());
    mods.push_back(
        {{"layer", st.id.layer},
         {"kind", std::string(sq::to_string(st.id.kind))},
         {"expert", st.id.is_expert() ? nlohmann::json(st.id.expert) : nlohmann::json(nullptr)},
         {"name", sq::hf_name(st.id)},
         {"windows", st.seq_ratio.size()},
         {"tokens", st.tokens},
         {"max", st.max},
         {"median", st.median},
         {"ratio", st.ratio},
         {"seq_max", st.seq_max},
         {"seq_median", st.seq_median},
         {"top_tokens", tj}});
  }
  auto const& best = calib::top_module(cal.stats);
  std::printf("largest r(m): %s (%.3f)\n", sq::short_name(best.id).c_str(), best.ratio);
  if (args.has("json")) {
    nlohmann::json j = {
        {"model", model_path},
        {"windows", windows.size()},
        {"tokens", cal.tokens},
        {"seq_len", seq_len},
        {"median_definition", "lower middle (torch.median) of per-window medians"},
        {"ratio_definition", "mean over windows of max_t(s_t) / median_t(s_t)"},
        {"top_module", sq::hf_name(best.id)},
        {"modules", mods}};
    if (hook) {
      j["plant_spikes"] = {
          {"factor", hook->spikes().options().factor}, {"token", hook->spikes().options().token}};
    }
    calib::write_text_file(args.get("json"), j.dump(2) + "\n");
  }
  if (args.has("plots")) {
    fs::path const dir = args.get("plots");
    std::string const what = hook ? " (planted spikes)" : "";
    calib::write_text_file(
        dir / "fig1_layer_max.svg",
        calib::render_svg(
            calib::layer_max_chart(cal.stats, "Max input magnitude per layer" + what)));
    if (!best.kept_scales.empty()) {
      calib::write_text_file(
          dir / "fig2_token_scales.svg",
          calib::render_svg(calib::token_scale_chart(
              best.kept_scales.front(),
              "Token-wise scales of " + sq::short_name(best.id) + " input, window 0" + what)));
    }
  }
  if (args.has("recipe")) {
    calib::Recipe r;
    r.model_path = model_path;
    r.model_hash = fs::is_regular_file(model_path) ? calib::file_hash(model_path) : "";
    r.scheme = sq::ActScheme::kStatic;
    // = eval's calibrate_static_scales (unrouted MoE experts get their layer's widest scale)
    r.static_scales = calib::static_scales(cal.stats, model.module_ids());
    if (hook) {
      r.plant_spikes = hook->spikes().options();
    }
    calib::write_recipe(r, args.get("recipe"));
  }
  return 0;
}

}  // namespace spikequant_tool
