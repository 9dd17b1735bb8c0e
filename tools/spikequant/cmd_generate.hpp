// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file `spikequant generate`: text from a prompt, greedy or sampled, under a scheme.
#pragma once

#include "common.hpp"
#include "spikequant/model/generate.hpp"

#include <cstdio>
#include <iostream>

namespace spikequant_tool {

inline ArgParser generate_parser() {
  ArgParser p(
      "generate",
      "Generates text after a prompt (BOS first). Temperature 0 is greedy; otherwise tokens are\n"
      "sampled with top-p from llama2.c's xorshift RNG, so a seed always gives the same text.");
  p.option(
       "model",
       "PATH",
       "llama2.c .bin file, Llama .gguf file or Hugging Face directory",
       default_model_path())
      .option("tokenizer", "FILE", "tokenizer (default: the one beside the model)")
      .option("prompt", "TEXT", "text to continue (default: none, start from BOS)")
      .option("steps", "N", "total tokens including the prompt", "256")
      .option("temperature", "T", "0 = greedy", "0")
      .option("top-p", "P", "nucleus sampling threshold (used when temperature > 0)", "0.9")
      .option("seed", "S", "RNG seed", "42")
      .option("scheme", "S", kSchemeNames, "fp32")
      .option(
          "bmm",
          "off|per-tensor|per-token",
          "BMM quantization of the q/k/v outputs (each decode step gets its own dynamic scale)",
          "off");
  p.epilog("w8a8-static is not available here (it needs calibration); use eval --calib.\n"
           "example: spikequant generate --prompt \"Once upon a time\" --steps 64\n");
  return p;
}

inline int run_generate(std::span<std::string const> words) {
  ArgParser const parser = generate_parser();
  ParsedArgs const args = parser.parse(words);
  if (args.help()) {
    std::cout << parser.usage();
    return 0;
  }
  sq::llama::SamplingOptions so;
  std::int64_t const steps = args.get_int("steps");
  if (steps < 1 || steps > 1'000'000) {
    throw UsageError("--steps must be in [1, 1000000], got " + std::to_string(steps));
  }
  so.steps = static_cast<int>(steps);
  so.temperature = static_cast<float>(args.get_double("temperature"));
  so.top_p = static_cast<float>(args.get_double("top-p"));
  std::int64_t const seed = args.get_int("seed");
  so.seed = static_cast<std::uint64_t>(seed);
  if (!(so.temperature >= 0.0f)) {
    throw UsageError("--temperature must be >= 0");
  }
  if (!(so.top_p >= 0.0f && so.top_p <= 1.0f)) {
    throw UsageError("--top-p must be in [0, 1]");
  }
  SchemeChoice const scheme = parse_scheme(args.get("scheme"));
  if (scheme.act == sq::ActScheme::kStatic) {
    throw UsageError("generate does not support w8a8-static (no calibration); use eval --calib");
  }

  sq::llama::QuantPlan plan = scheme.plan();
  plan.set_bmm(bmm_flag(args));
  std::string const model_path = args.get("model");
  sq::llama::Model model(load_weights(model_path), std::move(plan));
  auto const tok = *load_tokenizer_for(args, model_path, model.config().vocab_size, true);
  std::vector<int> prompt = tok.encode(args.get("prompt"), false, false);
  prompt.insert(prompt.begin(), model.config().bos_id);
  if (static_cast<std::int64_t>(prompt.size()) > model.config().max_seq_len &&
      model.config().max_seq_len > 0) {
    sq::fail(
        sq::ErrorKind::kInvalidArgument,
        "the prompt has ",
        prompt.size(),
        " tokens, more than the model's max_seq_len ",
        model.config().max_seq_len);
  }

  warn_past_trained_positions(model.config(), steps, "--steps " + std::to_string(steps));

  std::string out;
  int prev = prompt.front();
  for (std::size_t i = 1; i < prompt.size(); ++i) {
    out += tok.decode(prev, prompt[i]);
    prev = prompt[i];
  }
  std::cout << out << std::flush;
  (void)sq::llama::generate(model, prompt, so, [&](int t) {
    std::cout << tok.decode(prev, t) << std::flush;
    prev = t;
  });
  std::cout << "\n";
  return 0;
}

}  // namespace spikequant_tool
