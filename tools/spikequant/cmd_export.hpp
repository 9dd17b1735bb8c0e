// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file `spikequant export --model M --recipe R --out DIR`: a compressed-tensors Hugging Face
//! folder (io/compressed_tensors_export.hpp) that vLLM and llm-compressor load, and
//! optionally the logits spikequant predicts for it (--reference-logits).
#pragma once

#include "cmd_calib_common.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "progress.hpp"
#include "spikequant/io/compressed_tensors_export.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spikequant_tool {

inline ArgParser export_parser() {
  ArgParser p(
      "export",
      "Writes a Hugging Face folder in the compressed-tensors format (INT8 W8A8, per-channel\n"
      "weights, the recipe's activation scheme, its QFeM exclusions as `ignore`) that vLLM and\n"
      "llm-compressor load. See docs/serving.md.");
  p.option(
       "model",
       "DIR|FILE",
       "the model the recipe was calibrated on: a Hugging Face folder or a llama2.c .bin",
       default_model_path())
      .option("recipe", "FILE", "recipe JSON (eval --write-recipe, calibrate --recipe)")
      .option("out", "DIR", "output folder (created; files of the same names are replaced)")
      .flag(
          "allow-unservable",
          "write a scheme vLLM has no INT8 kernel for (w8a8-per-tensor, AQ2) instead of "
          "refusing it")
      .option(
          "max-shard-size",
          "SIZE",
          "start a new safetensors shard past this size: bytes, or with KB, MB, GB "
          "(decimal, as transformers' max_shard_size)",
          "5GB")
      .option(
          "dtype",
          "f32|bf16|f16",
          "storage of the float tensors (norms, embeddings, "
          "lm_head, excluded modules)",
          "f32")
      .option(
          "reference-logits",
          "FILE",
          "also write the logits spikequant predicts for --tokens: the export's weights with "
          "float activations (W8A16 emulation), the served W8A8 scheme, and the recipe as "
          "spikequant runs it (excluded modules W8A16)")
      .option("tokens", "\"ID ID ...\"", "token ids for --reference-logits (BOS first)")
      .epilog("Not carried by the format (written to spikequant_export.json in the output): the\n"
              "QFeP prefix, BMM quantization, planted spikes. GGUF input is not supported yet.\n\n"
              "example:\n"
              "  T=../shared/data/text/tinystories_val.txt\n"
              "  spikequant eval --text $T --max-tokens 4096 --calib $T --scheme w8a8-static \\\n"
              "      --qfem 3 --smoothquant 0.5 --write-recipe r.json\n"
              "  spikequant export --recipe r.json --out stories260K-w8a8\n");
  return p;
}

namespace detail {
//! "5GB", "200MB", "64KB", "4096" (bytes) -> bytes; UsageError otherwise.
inline std::int64_t parse_size(std::string const& s) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
    ++n;
  }
  std::string const unit = s.substr(n);
  std::int64_t mult = 0;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "KB") {
    mult = 1'000;
  } else if (unit == "MB") {
    mult = 1'000'000;
  } else if (unit == "GB") {
    mult = 1'000'000'000;
  }
  std::int64_t v = 0;
  if (n == 0 || n > 12 || mult == 0 || (v = std::stoll(s.substr(0, n))) <= 0) {
    throw UsageError(
        "--max-shard-size: '" + s + "' is not a size > 0 (e.g. 5GB, 200MB, 64KB, 4096)");
  }
  return v * mult;
}

//! The three plans --reference-logits runs (see the option's help).
inline nlohmann::json reference_logits(
    sq::llama::Model const& m, sq::calib::Recipe const& r, std::vector<int> const& tokens) {
  using sq::LinearMode;
  using sq::llama::QuantPlan;
  auto exported = QuantPlan::uniform(LinearMode::kW8A16);
  auto served = QuantPlan::w8a8(r.scheme);
  auto recipe = QuantPlan::w8a8(r.scheme);
  if (r.scheme == sq::ActScheme::kStatic) {
    served.set_static_scales(r.static_scales);
    recipe.set_static_scales(r.static_scales);
  }
  for (auto const& id : r.excluded) {
    exported.set_mode(id, LinearMode::kFloat);
    served.set_mode(id, LinearMode::kFloat);
    recipe.set_mode(id, LinearMode::kW8A16);
  }
  recipe.set_bmm(r.bmm);
  auto run = [&](QuantPlan const& plan) {
    auto cache = m.make_cache(static_cast<int>(tokens.size()));
    sq::llama::ForwardOptions fo;
    fo.plan = &plan;
    return m.forward_all(tokens, cache, fo);
  };
  return {
      {"tokens", tokens},
      {"vocab_size", m.config().vocab_size},
      {"scheme", std::string(sq::to_string(r.scheme))},
      {"exported_w8a16", run(exported)},
      {"served_w8a8", run(served)},
      {"recipe_w8a8", run(recipe)},
      {"float", run(QuantPlan{})}};
}
}  // namespace detail

inline int run_export(std::span<std::string const> words) {
  ArgParser const parser = export_parser();
  ParsedArgs const args = parser.parse(words);
  if (args.help()) {
    std::cout << parser.usage();
    return 0;
  }
  if (!args.has("recipe")) {
    throw UsageError("export needs --recipe FILE (write one with eval --write-recipe)");
  }
  if (!args.has("out")) {
    throw UsageError("export needs --out DIR");
  }
  if (args.has("reference-logits") != args.has("tokens")) {
    throw UsageError("--reference-logits FILE and --tokens \"ID ...\" go together");
  }
  std::string const model_path = args.get("model");
  if (model_path.ends_with(".gguf")) {
    sq::fail(
        sq::ErrorKind::kUnsupported,
        "export: GGUF input is not supported yet; convert the model to a Hugging Face folder");
  }
  sq::io::ExportOptions opt;
  std::string const dtype = args.get("dtype");
  if (dtype == "f32") {
    opt.float_dtype = sq::io::Dtype::kF32;
  } else if (dtype == "bf16") {
    opt.float_dtype = sq::io::Dtype::kBF16;
  } else if (dtype == "f16") {
    opt.float_dtype = sq::io::Dtype::kF16;
  } else {
    throw UsageError("--dtype: unknown value '" + dtype + "' (expected f32, bf16 or f16)");
  }
  opt.max_shard_bytes = detail::parse_size(args.get("max-shard-size"));
  opt.allow_unservable = args.flag("allow-unservable");

  auto const recipe = sq::calib::read_recipe(args.get("recipe"));
  if (!sq::io::vllm_serves(recipe.scheme) && !opt.allow_unservable) {
    sq::fail(sq::ErrorKind::kUnsupported, "export: ", sq::io::unservable_message(recipe.scheme));
  }
  auto weights = load_weights(model_path);
  std::error_code ec;
  if (fs::is_directory(model_path, ec)) {
    opt.source_dir = model_path;
  } else if (!recipe.model_hash.empty() && sq::calib::file_hash(model_path) != recipe.model_hash) {
    std::fprintf(
        stderr,
        "spikequant: warning: the recipe was written for %s (%s), not for this model file\n",
        recipe.model_path.c_str(),
        recipe.model_hash.c_str());
  }
  if (!sq::io::vllm_serves(recipe.scheme)) {
    std::fprintf(
        stderr,
        "spikequant: warning: writing %s although vLLM cannot serve it (--allow-unservable)\n",
        std::string(sq::to_string(recipe.scheme)).c_str());
  }
  std::vector<int> tokens;
  if (args.has("tokens")) {
    tokens = parse_ids(args.get("tokens"), "tokens");
    if (tokens.empty()) {
      throw UsageError("--tokens: no token ids");
    }
  }
  Stage stage("export: quantizing and writing " + args.get("out"));
  auto const res = sq::io::export_compressed_tensors(
      tokens.empty() ? std::move(weights) : weights, recipe, opt, args.get("out"));
  stage.done();
  std::cout << "wrote " << args.get("out") << ": " << res.quantized.size()
            << " INT8 modules, ignore = [";
  for (std::size_t i = 0; i < res.ignored.size(); ++i) {
    std::cout << (i ? ", " : "") << res.ignored[i];
  }
  std::cout << "], scheme " << sq::to_string(recipe.scheme)
            << (res.vllm_servable ? " (vLLM serves it)" : " (NOT servable by vLLM)") << "\n"
            << "files:";
  for (auto const& f : res.files) {
    std::cout << " " << f;
  }
  std::cout << "\n";
  if (!recipe.prefix_ids.empty() || recipe.bmm) {
    std::cout << "not carried (see spikequant_export.json):"
              << (recipe.prefix_ids.empty() ? "" : " QFeP prefix")
              << (recipe.bmm ? " BMM quantization" : "") << "\n";
  }
  if (!tokens.empty()) {
    if (recipe.smoothing) {
      weights = sq::calib::apply_smoothing(std::move(weights), *recipe.smoothing);
    }
    sq::llama::Model const m(std::move(weights));
    m.check_tokens(tokens);
    Stage ref("export: reference logits for " + std::to_string(tokens.size()) + " tokens");
    auto const j = detail::reference_logits(m, recipe, tokens);
    ref.done();
    std::ofstream out(args.get("reference-logits"), std::ios::trunc);
    sq::require(
        out.is_open(), sq::ErrorKind::kIo, "cannot create '", args.get("reference-logits"), "'");
    out << j.dump() << "\n";
    sq::require(
        out.good(), sq::ErrorKind::kIo, "cannot write '", args.get("reference-logits"), "'");
  }
  return 0;
}

}  // namespace spikequant_tool
