// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The registry of spikequant subcommands. Each subcommand lives in its own header
//! (cmd_tokenize.hpp, cmd_generate.hpp, cmd_eval.hpp, cmd_calibrate.hpp, cmd_report.hpp) as a
//! `run_<name>` function; main.cpp's make_registry() adds every one of them, and nothing else
//! registers commands (so a command cannot silently disappear with a file).
#pragma once

#include "args.hpp"

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace spikequant_tool {

//! One subcommand: `spikequant <name> [options]`.
struct Command {
  std::string name;
  std::string summary;  //!< one line for `spikequant --help`
  //! Runs with the words after the name; returns the exit code. Throws UsageError for
  //! usage mistakes (exit 2), spikequant::Error or std::exception for runtime failures (1).
  std::function<int(std::span<std::string const> args)> run;
};

class Registry {
public:
  void add(Command c) { commands_.push_back(std::move(c)); }
  [[nodiscard]] Command const* find(std::string const& name) const {
    for (Command const& c : commands_) {
      if (c.name == name) {
        return &c;
      }
    }
    return nullptr;
  }
  [[nodiscard]] std::vector<Command> const& list() const noexcept { return commands_; }

private:
  std::vector<Command> commands_;
};

}  // namespace spikequant_tool
