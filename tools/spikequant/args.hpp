// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file A small option parser for the spikequant subcommands: `--name value`, `--name=value`
//! and flags, strict number parsing, generated `--help`. Usage mistakes throw UsageError
//! (exit code 2); everything else is a runtime error (exit code 1).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace spikequant_tool {

//! A mistake in how the command was called: unknown option, missing value, bad number.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

//! " (did you mean 'X'?)" for the candidate closest to `word` in edit distance, when it is
//! close enough to be a typo (at most 2 edits, or a third of the word); "" otherwise.
inline std::string did_you_mean(
    std::string_view word,
    std::vector<std::string> const& candidates,
    std::string_view prefix = "") {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
      row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t const up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (auto const& c : candidates) {
    std::size_t const d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best.empty() ? std::string() : " (did you mean '" + std::string(prefix) + best + "'?)";
}

//! The options given to one subcommand, by name without the leading "--".
class ParsedArgs {
public:
  [[nodiscard]] bool has(std::string const& name) const { return values_.contains(name); }
  //! A flag was given.
  [[nodiscard]] bool flag(std::string const& name) const { return has(name); }
  //! The value given, or the option's default ("" when it has none).
  [[nodiscard]] std::string get(std::string const& name) const {
    if (auto it = values_.find(name); it != values_.end()) {
      return it->second;
    }
    if (auto it = defaults_.find(name); it != defaults_.end()) {
      return it->second;
    }
    return {};
  }
  [[nodiscard]] std::optional<std::string> value(std::string const& name) const {
    if (auto it = values_.find(name); it != values_.end()) {
      return it->second;
    }
    return std::nullopt;
  }
  //! get(name) as an integer; UsageError naming the option when it is not one.
  [[nodiscard]] std::int64_t get_int(std::string const& name) const {
    std::string const s = get(name);
    std::int64_t v = 0;
    auto const [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
      throw UsageError("--" + name + ": '" + s + "' is not an integer");
    }
    return v;
  }
  //! get(name) as a number; UsageError naming the option when it is not one.
  [[nodiscard]] double get_double(std::string const& name) const {
    std::string const s = get(name);
    double v = 0.0;
    auto const [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
      throw UsageError("--" + name + ": '" + s + "' is not a number");
    }
    return v;
  }
  [[nodiscard]] bool help() const { return help_; }

private:
  friend class ArgParser;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> defaults_;
  bool help_ = false;
};

//! Declares a subcommand's options and parses its arguments. Extensions (the calibration
//! subcommands, eval extensions) add their own options to the same parser.
class ArgParser {
public:
  ArgParser(std::string command, std::string summary)
      : command_(std::move(command))
      , summary_(std::move(summary)) {}

  //! `--name VALUE`. `default_value` is what get() returns when the option is absent.
  ArgParser& option(
      std::string name, std::string value_name, std::string help, std::string default_value = {}) {
    specs_.push_back(
        {std::move(name), std::move(value_name), std::move(help), std::move(default_value)});
    return *this;
  }
  //! `--name` without a value.
  ArgParser& flag(std::string name, std::string help) {
    specs_.push_back({std::move(name), {}, std::move(help), {}});
    return *this;
  }
  //! Text printed after the option list (examples, notes).
  ArgParser& epilog(std::string text) {
    epilog_ += text;
    return *this;
  }

  //! Parses `args` (the words after the subcommand name). `--help` / `-h` sets help().
  [[nodiscard]] ParsedArgs parse(std::span<std::string const> args) const {
    ParsedArgs out;
    for (Spec const& s : specs_) {
      if (!s.default_value.empty()) {
        out.defaults_[s.name] = s.default_value;
      }
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string_view a = args[i];
      if (a == "--help" || a == "-h") {
        out.help_ = true;
        continue;
      }
      if (!a.starts_with("--") || a.size() == 2) {
        throw UsageError(
            "unexpected argument '" + std::string(a) + "' (options start with --; see " +
            "spikequant " + command_ + " --help)");
      }
      a.remove_prefix(2);
      std::optional<std::string> inline_value;
      if (auto eq = a.find('='); eq != std::string_view::npos) {
        inline_value = std::string(a.substr(eq + 1));
        a = a.substr(0, eq);
      }
      Spec const* spec = find(a);
      if (spec == nullptr) {
        std::vector<std::string> names;
        for (Spec const& sp : specs_) {
          names.push_back(sp.name);
        }
        throw UsageError(
            "unknown option --" + std::string(a) + " for '" + command_ + "'" +
            did_you_mean(a, names, "--") + " (see spikequant " + command_ + " --help)");
      }
      if (spec->value_name.empty()) {
        if (inline_value) {
          throw UsageError("--" + spec->name + " takes no value");
        }
        out.values_[spec->name] = "1";
        continue;
      }
      if (inline_value) {
        out.values_[spec->name] = *inline_value;
      } else if (i + 1 < args.size()) {
        out.values_[spec->name] = args[++i];
      } else {
        throw UsageError("--" + spec->name + " needs a value (" + spec->value_name + ")");
      }
    }
    return out;
  }

  //! The --help text.
  [[nodiscard]] std::string usage() const {
    std::ostringstream o;
    o << "usage: spikequant " << command_ << " [options]\n\n" << summary_ << "\n\noptions:\n";
    for (Spec const& s : specs_) {
      std::string left = "  --" + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
      o << left;
      if (left.size() < 28) {
        o << std::string(28 - left.size(), ' ');
      } else {
        o << "\n" << std::string(28, ' ');
      }
      o << s.help;
      if (!s.default_value.empty()) {
        o << " (default: " << s.default_value << ")";
      }
      o << "\n";
    }
    o << "  --help                    this text\n";
    if (!epilog_.empty()) {
      o << "\n" << epilog_;
    }
    return o.str();
  }
  [[nodiscard]] std::string const& command() const noexcept { return command_; }

private:
  struct Spec {
    std::string name;
    std::string value_name;  // empty: a flag
    std::string help;
    std::string default_value;
  };
  [[nodiscard]] Spec const* find(std::string_view name) const {
    for (Spec const& s : specs_) {
      if (s.name == name) {
        return &s;
      }
    }
    return nullptr;
  }

  std::string command_;
  std::string summary_;
  std::string epilog_;
  std::vector<Spec> specs_;
};

}  // namespace spikequant_tool
