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
    // ETA from the mean time per step so far (blank until the first step is done).
    char eta[48] = "";
    if (done > 0 && done < total) {
      std::snprintf(
          eta,
          sizeof(eta),
          ", ETA %.0fs ",
          secs * static_cast<double>(total - done) / static_cast<double>(done));
    }
    std::fprintf(
        stderr,
        "\r%s [%s] %zu/%zu  %.1fs%s   ",
        label_.c_str(),
        bar.c_str(),
        done,
        total,
        secs,
        eta);
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

//! One stage of a long command ("qfep: prefix search"), on stderr when it is a terminal:
//! "what ..." when it starts, "what ... done (3.2s)" when it ends, and a counter of steps of
//! unknown number (tick) in between. Silent for logs, pipes and tests, like ProgressBar.
class Stage {
public:
  explicit Stage(std::string what, bool enabled = isatty(STDERR_FILENO) != 0)
      : what_(std::move(what))
      , enabled_(enabled)
      , start_(std::chrono::steady_clock::now()) {
    if (enabled_) {
      std::fprintf(stderr, "%s ...", what_.c_str());
      std::fflush(stderr);
    }
  }
  Stage(Stage const&) = delete;
  Stage& operator=(Stage const&) = delete;
  ~Stage() { done(); }

  //! One more step finished (e.g. one perplexity evaluation of a search); `note` says which.
  void tick(std::string const& note = {}) {
    ++steps_;
    if (enabled_ && !done_) {
      std::fprintf(
          stderr, "\r%s ... %zu done, %.1fs %s   ", what_.c_str(), steps_, seconds(), note.c_str());
      std::fflush(stderr);
    }
  }
  //! Ends the line (idempotent).
  void done() {
    if (enabled_ && !done_) {
      std::fprintf(stderr, "\r%s ... done (%.1fs)%30s\n", what_.c_str(), seconds(), "");
    }
    done_ = true;
  }

private:
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  std::string what_;
  bool enabled_;
  bool done_ = false;
  std::size_t steps_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace spikequant_tool
