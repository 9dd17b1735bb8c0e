// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file A progress bar on stderr, drawn only when stderr is a terminal (so logs, pipes and
//! tests see nothing).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace spikequant_tool {

class ProgressBar {
public:
  //! `label` is printed before the bar ("eval", "calibrate").
  explicit ProgressBar(std::string label, bool enabled = isatty(STDERR_FILENO) != 0)
      : label_(std::move(label))
      , enabled_(enabled)
      , start_(std::chrono::steady_clock::now()) {}
  ProgressBar(ProgressBar const&) = delete;
  ProgressBar& operator=(ProgressBar const&) = delete;
  ~ProgressBar() { finish(); }

  //! Redraws the bar at `done` of `total`.
  void update(std::size_t done, std::size_t total) {
    if (!enabled_ || total == 0) {
      return;
    }
    constexpr int kWidth = 30;
    auto const filled = static_cast<int>(kWidth * done / total);
    double const secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(
        stderr, "\r%s [%s] %zu/%zu  %.1fs", label_.c_str(), bar.c_str(), done, total, secs);
    std::fflush(stderr);
    drawn_ = true;
  }
  //! Ends the line (idempotent).
  void finish() {
    if (drawn_) {
      std::fputc('\n', stderr);
      drawn_ = false;
    }
  }

private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace spikequant_tool
