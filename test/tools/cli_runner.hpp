// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Runs the built `spikequant` binary (SPIKEQUANT_CLI_PATH) as a user would and checks
//! the one-line error contract; shared by the CLI test programs.
#pragma once

#include "common/data.hpp"

#include <algorithm>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace spikequant_test::cli {

namespace fs = std::filesystem;

struct Result {
  int rc = -1;
  bool signaled = false;
  std::string out;
  std::string err;
};

//! A scratch folder for this process (each doctest case runs in its own process under CTest).
inline fs::path temp_dir() {
  static fs::path const dir = [] {
    fs::path d = fs::temp_directory_path() / ("spikequant_cli_test_" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string slurp(fs::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

//! Single-quotes `s` for /bin/sh.
inline std::string quote(std::string const& s) {
  std::string q = "'";
  for (char c : s) {
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return q + "'";
}

inline std::string q(fs::path const& p) {
  return quote(p.string());
}

//! Runs the binary with `args` (already shell-quoted where needed), SPIKEQUANT_DATA set.
inline Result run(std::string const& args) {
  fs::path const out = temp_dir() / "stdout.txt";
  fs::path const err = temp_dir() / "stderr.txt";
  std::string const cmd = "SPIKEQUANT_DATA=" + quote(data_dir().string()) + " " +
                          quote(SPIKEQUANT_CLI_PATH) + " " + args + " >" + q(out) + " 2>" + q(err);
  int const status = std::system(cmd.c_str());
  Result r;
  if (WIFEXITED(status)) {
    r.rc = WEXITSTATUS(status);
  } else {
    r.signaled = true;
  }
  r.signaled = r.signaled || r.rc > 128;  // a shell reports a signal as 128 + signal
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

//! Non-zero exit `rc`, nothing on stdout, exactly one "spikequant: error: ..." line on stderr.
inline void check_one_line_error(Result const& r, int rc, std::string const& must_contain) {
  CAPTURE(r.err);
  CHECK_FALSE(r.signaled);
  CHECK(r.rc == rc);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("spikequant: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(must_contain) != std::string::npos);
}

}  // namespace spikequant_test::cli
