// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The `spikequant` command: run LLaMA-family models under W8A8 schemes. Every command
//! is registered in make_registry() below, and only there:
//!
//!   spikequant tokenize  --text "Once upon a time"
//!   spikequant generate  [--model M] [--prompt P] [--steps N] [--temperature T] [--scheme S]
//!   spikequant eval      --text FILE [--scheme fp32|w8a8-per-token|w8a8-per-tensor|w8a8-static]
//!                        [--bmm ...] [--qfem ...] [--qfep ...] [--smoothquant A] [--recipe F]
//!   spikequant calibrate --calib FILE [--json OUT] [--plots DIR] [--recipe OUT] [--plant-spikes F]
//!   spikequant report    [--out DIR] [--seq-len L] [--calib-tokens N] [--eval-tokens N]
//!   spikequant export    --recipe R --out DIR [--model M] (compressed-tensors; docs/serving.md)
//!   spikequant --version
//!
//! `spikequant <command> --help` lists each command's options.
//! Exit codes: 0 success, 1 runtime error (bad file, bad token id), 2 usage error. Every error
//! is one line on stderr: "spikequant: error: ..."; a misspelt command or option
//! gets a "did you mean" suggestion.
#include "cmd_calibrate.hpp"
#include "cmd_eval.hpp"
#include "cmd_export.hpp"
#include "cmd_generate.hpp"
#include "cmd_report.hpp"
#include "cmd_tokenize.hpp"
#include "commands.hpp"
#include "spikequant/version.hpp"

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

void print_help(spikequant_tool::Registry const& r) {
  std::cout << "usage: spikequant <command> [options]   (spikequant <command> --help,\n"
               "       spikequant --version)\n\n"
               "commands:\n";
  for (auto const& c : r.list()) {
    std::string name = "  " + c.name;
    name.resize(14, ' ');
    std::cout << name << c.summary << "\n";
  }
  std::cout << "\nData defaults come from $SPIKEQUANT_DATA (or ../shared/data): the model\n"
               "models/stories260K/stories260K.bin and its tokenizer tok512.bin.\n";
}

//! The one list of commands (name, --help summary, entry point), in --help order.
spikequant_tool::Registry make_registry() {
  using namespace spikequant_tool;
  Registry r;
  r.add({"tokenize", "print the token ids of a text", run_tokenize});
  r.add({"generate", "generate text from a prompt (greedy or sampled)", run_generate});
  r.add({"eval", "perplexity under fp32 or a W8A8 scheme", run_eval});
  r.add({"calibrate", "token-wise scale statistics, r(m), top tokens, plots", run_calibrate});
  r.add(
      {"report",
       "the paper's Table 3 analog on stories260K (real and planted spikes)",
       run_report});
  r.add(
      {"export",
       "write a compressed-tensors Hugging Face folder (vLLM, llm-compressor) from a recipe",
       run_export});
  return r;
}

int error_exit(int code, std::string const& message) {
  std::fprintf(stderr, "spikequant: error: %s\n", spikequant_tool::one_line(message).c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace spikequant_tool;
  Registry const registry = make_registry();
  std::vector<std::string> const words(argv + 1, argv + argc);
  try {
    if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
      print_help(registry);
      return words.empty() ? 2 : 0;
    }
    if (words[0] == "--version" || words[0] == "-V" || words[0] == "version") {
      std::cout << "spikequant " << SPIKEQUANT_VERSION_MAJOR << "." << SPIKEQUANT_VERSION_MINOR
                << "." << SPIKEQUANT_VERSION_PATCH << "\n";
      return 0;
    }
    Command const* cmd = registry.find(words[0]);
    if (cmd == nullptr) {
      std::vector<std::string> names;
      for (auto const& c : registry.list()) {
        names.push_back(c.name);
      }
      throw UsageError(
          "unknown command '" + words[0] + "'" + did_you_mean(words[0], names) +
          " (see spikequant --help)");
    }
    return cmd->run(std::span<std::string const>(words).subspan(1));
  } catch (UsageError const& e) {
    return error_exit(2, e.what());
  } catch (spikequant::Error const& e) {
    return error_exit(1, e.what());
  } catch (std::exception const& e) {
    return error_exit(1, e.what());
  } catch (...) {
    return error_exit(1, "unknown error");
  }
}
