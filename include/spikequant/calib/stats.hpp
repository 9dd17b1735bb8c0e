// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Calibration statistics of linear-module inputs: token-wise scales, the max-median
//! ratio r(m), the tokens carrying the largest scales, and per-channel absmax. Host only.
//!
//! Definitions (PAPER.md "Calibration"):
//! - token-wise scale of a module for one sequence: `s_t = max_j |x[t, j]|`;
//! - `median` follows torch.median: the LOWER of the two middle values for an even count;
//! - `r(m) = mean over sequences of max_t(s_t) / median_t(s_t)`.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/module.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <vector>

namespace spikequant::inline v0::calib {

//! torch.median semantics: the lower middle value for an even count (element n/2 - 1 of the
//! sorted values, 0-based), the middle one for an odd count. Throws on an empty input.
inline float lower_median(std::span<float const> values) {
  require(!values.empty(), ErrorKind::kInvalidArgument, "lower_median: empty input");
  std::vector<float> v(values.begin(), values.end());
  auto const k = (v.size() - 1) / 2;  // odd n: middle; even n: lower middle
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

//! `s_t = max_j |x[t, j]|` for every row t of x (tokens, features).
inline std::vector<float> token_scales(MatrixRef<float const> x) {
  std::vector<float> s(static_cast<std::size_t>(x.rows), 0.0f);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    float m = 0.0f;
    float const* row = x.row(r);
    for (std::int64_t c = 0; c < x.cols; ++c) {
      m = std::max(m, std::fabs(row[c]));
    }
    s[static_cast<std::size_t>(r)] = m;
  }
  return s;
}

//! max_t(s) / median_t(s) of one sequence's token-wise scales. A zero median gives +inf
//! when the max is positive and 1 when the whole vector is zero.
inline double max_median_ratio(std::span<float const> scales) {
  float const med = lower_median(scales);
  float const mx = *std::max_element(scales.begin(), scales.end());
  if (med > 0.0f) {
    return static_cast<double>(mx) / static_cast<double>(med);
  }
  return mx > 0.0f ? std::numeric_limits<double>::infinity() : 1.0;
}

//! One token occurrence with its token-wise scale at a module.
struct TokenScale {
  int token = -1;     //!< token id
  int position = -1;  //!< absolute position in its sequence (prefix positions count)
  int sequence = -1;  //!< index of the calibration sequence
  float scale = 0.0f;
};

//! What calibration learned about one module's input.
struct ModuleStats {
  ModuleId id;
  //! Largest token-wise scale over the whole calibration set (= max |x|): the static
  //! (AQ3) activation absmax; the INT8 scale is max / 127.
  float max = 0.0f;
  //! Lower median of the per-sequence medians of the token-wise scales.
  float median = 0.0f;
  //! r(m): mean over sequences of max_t(s_t) / median_t(s_t).
  double ratio = std::numeric_limits<double>::quiet_NaN();
  std::vector<float> seq_max;     //!< per sequence: max_t s_t
  std::vector<float> seq_median;  //!< per sequence: median_t s_t (lower middle)
  std::vector<double> seq_ratio;  //!< per sequence: max / median
  //! The largest token-wise scales over the calibration set, largest first (occurrences,
  //! so one token id can appear several times).
  std::vector<TokenScale> top_tokens;
  //! Per token id: its largest occurrence (for QFeP candidates: distinct ids).
  std::map<int, TokenScale> token_max;
  //! The token-wise scales of the first `keep_sequences` sequences (for plots).
  std::vector<std::vector<float>> kept_scales;
  std::int64_t tokens = 0;  //!< tokens observed
};

//! Options of TokenScaleObserver.
struct TokenScaleObserverOptions {
  int top_k = 16;          //!< how many top occurrences to keep per module
  int keep_sequences = 1;  //!< keep the full scale vector of this many sequences
};

//! Records token-wise scales of linear-module inputs during float calibration forwards.
//!
//! Protocol: `begin_sequence(ids, first_position)` with the tokens the forward will process
//! (excluding a precomputed prefix), then `record(id, x, row_offset)` for each module input
//! (any number of chunks, rows in position order), then `end_sequence()`.
//! Modules never recorded are absent; record only what you need (the representatives
//! q, o, up, down suffice: siblings share an input). MoE experts are distinct ModuleIds
//! (ModuleId::expert) and get their own statistics; an expert only sees the tokens routed to
//! it, so pass `rows` to tell which sequence rows the input rows are (the forward's
//! llama::ForwardContext::rows).
//!
//! A module that receives no row in a sequence (an expert no token of the window was routed
//! to) is skipped for that sequence: it adds no entry to seq_max / seq_median / seq_ratio, so
//! its median and r(m) run over the sequences in which it saw at least one token (never an
//! empty median, never a 0/0 ratio). A module that saw no token at all has no statistics.
class TokenScaleObserver {
public:
  explicit TokenScaleObserver(TokenScaleObserverOptions options = {})
      : options_(options) {}

  //! Starts a calibration sequence: `ids` are its tokens, `first_position` the absolute
  //! position of ids[0] (the prefix length when a QFeP prefix cache precedes them).
  void begin_sequence(std::span<int const> ids, int first_position = 0) {
    require(!in_sequence_, ErrorKind::kInvalidArgument, "TokenScaleObserver: nested sequence");
    ids_.assign(ids.begin(), ids.end());
    first_position_ = first_position;
    current_.clear();
    in_sequence_ = true;
  }

  //! Records a module input x (rows, features) whose row r is sequence token
  //! `row_offset + r` (rows must arrive in order per module).
  void record(ModuleId const& id, MatrixRef<float const> x, std::int64_t row_offset = 0) {
    require(
        in_sequence_, ErrorKind::kInvalidArgument, "TokenScaleObserver: record outside sequence");
    require(
        row_offset >= 0 && row_offset + x.rows <= static_cast<std::int64_t>(ids_.size()),
        ErrorKind::kShape,
        "TokenScaleObserver: rows [",
        row_offset,
        ", ",
        row_offset + x.rows,
        ") outside the sequence of ",
        ids_.size(),
        " tokens");
    auto s = token_scales(x);
    auto& cur = current_[id];
    for (std::size_t r = 0; r < s.size(); ++r) {
      cur.rows.push_back(static_cast<int>(row_offset) + static_cast<int>(r));
      cur.scales.push_back(s[r]);
    }
  }

  //! Records an input whose row r is sequence token `rows[r]` (MoE experts: routed rows).
  void record(ModuleId const& id, MatrixRef<float const> x, std::span<int const> rows) {
    require(
        in_sequence_, ErrorKind::kInvalidArgument, "TokenScaleObserver: record outside sequence");
    require(
        static_cast<std::int64_t>(rows.size()) == x.rows,
        ErrorKind::kShape,
        "TokenScaleObserver: ",
        rows.size(),
        " row indices for ",
        x.rows,
        " rows");
    for (int row : rows) {  // all checked before anything is recorded
      require(
          row >= 0 && row < static_cast<int>(ids_.size()),
          ErrorKind::kShape,
          "TokenScaleObserver: row index ",
          row,
          " outside the sequence of ",
          ids_.size(),
          " tokens");
    }
    auto s = token_scales(x);
    auto& cur = current_[id];
    for (std::size_t r = 0; r < s.size(); ++r) {
      cur.rows.push_back(rows[r]);
      cur.scales.push_back(s[r]);
    }
  }

  //! Finishes the sequence: folds its per-module scale vectors into the statistics.
  void end_sequence() {
    require(in_sequence_, ErrorKind::kInvalidArgument, "TokenScaleObserver: no open sequence");
    in_sequence_ = false;
    for (auto& [id, cur] : current_) {
      if (cur.scales.empty()) {
        continue;
      }
      auto& st = stats_[id];
      st.id = id;
      int const seq = sequences_;
      float const mx = *std::max_element(cur.scales.begin(), cur.scales.end());
      float const med = lower_median(cur.scales);
      st.seq_max.push_back(mx);
      st.seq_median.push_back(med);
      st.seq_ratio.push_back(max_median_ratio(cur.scales));
      st.max = std::max(st.max, mx);
      st.tokens += static_cast<std::int64_t>(cur.scales.size());
      if (static_cast<int>(st.kept_scales.size()) < options_.keep_sequences) {
        st.kept_scales.push_back(cur.scales);
      }
      for (std::size_t i = 0; i < cur.scales.size(); ++i) {
        auto const row = static_cast<std::size_t>(cur.rows[i]);
        TokenScale const ts{ids_[row], first_position_ + cur.rows[i], seq, cur.scales[i]};
        push_top(st.top_tokens, ts);
        auto [it, inserted] = st.token_max.try_emplace(ts.token, ts);
        if (!inserted && ts.scale > it->second.scale) {
          it->second = ts;
        }
      }
    }
    current_.clear();
    ++sequences_;
  }

  //! Statistics of every recorded module (median and ratio finalized), ordered by ModuleId.
  [[nodiscard]] std::vector<ModuleStats> stats() const {
    std::vector<ModuleStats> out;
    out.reserve(stats_.size());
    for (auto const& [id, st] : stats_) {
      ModuleStats s = st;
      if (!s.seq_ratio.empty()) {
        double sum = 0.0;
        for (double r : s.seq_ratio) {
          sum += r;
        }
        s.ratio = sum / static_cast<double>(s.seq_ratio.size());
        s.median = lower_median(s.seq_median);
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  [[nodiscard]] int sequences() const noexcept { return sequences_; }

private:
  struct Current {
    std::vector<int> rows;
    std::vector<float> scales;
  };

  void push_top(std::vector<TokenScale>& top, TokenScale const& ts) const {
    auto const k = static_cast<std::size_t>(std::max(options_.top_k, 0));
    if (k == 0) {
      return;
    }
    // Sorted largest first; ties keep the earlier occurrence first (deterministic).
    if (top.size() == k && !(ts.scale > top.back().scale)) {
      return;
    }
    auto it =
        std::upper_bound(top.begin(), top.end(), ts, [](TokenScale const& a, TokenScale const& b) {
          return a.scale > b.scale;
        });
    top.insert(it, ts);
    if (top.size() > k) {
      top.pop_back();
    }
  }

  TokenScaleObserverOptions options_;
  std::map<ModuleId, ModuleStats> stats_;
  std::map<ModuleId, Current> current_;
  std::vector<int> ids_;
  int first_position_ = 0;
  int sequences_ = 0;
  bool in_sequence_ = false;
};

//! Per input channel absmax max_t |x[t, j]| of module inputs (SmoothQuant's act_scales).
class ChannelAbsMaxObserver {
public:
  void record(ModuleId const& id, MatrixRef<float const> x) {
    auto& v = absmax_[id];
    if (v.empty()) {
      v.assign(static_cast<std::size_t>(x.cols), 0.0f);
    }
    require(
        static_cast<std::int64_t>(v.size()) == x.cols,
        ErrorKind::kShape,
        "ChannelAbsMaxObserver: ",
        short_name(id),
        " had ",
        v.size(),
        " channels, now ",
        x.cols);
    for (std::int64_t r = 0; r < x.rows; ++r) {
      for (std::int64_t c = 0; c < x.cols; ++c) {
        auto& m = v[static_cast<std::size_t>(c)];
        m = std::max(m, std::fabs(x(r, c)));
      }
    }
  }
  //! Per-channel absmax of a recorded module; empty when never recorded.
  [[nodiscard]] std::vector<float> const& absmax(ModuleId const& id) const {
    static std::vector<float> const empty;
    auto it = absmax_.find(id);
    return it == absmax_.end() ? empty : it->second;
  }
  [[nodiscard]] std::map<ModuleId, std::vector<float>> const& all() const noexcept {
    return absmax_;
  }

private:
  std::map<ModuleId, std::vector<float>> absmax_;
};

//! The `n` most frequent token ids of `sequences`, most frequent first (ties: smaller id
//! first), skipping ids in `exclude` (e.g. BOS). QFeP's context tokens.
inline std::vector<int> most_frequent_tokens(
    std::span<std::vector<int> const> sequences, int n, std::span<int const> exclude = {}) {
  std::map<int, std::int64_t> counts;
  for (auto const& s : sequences) {
    for (int t : s) {
      if (std::find(exclude.begin(), exclude.end(), t) == exclude.end()) {
        ++counts[t];
      }
    }
  }
  std::vector<std::pair<int, std::int64_t>> v(counts.begin(), counts.end());
  std::stable_sort(
      v.begin(), v.end(), [](auto const& a, auto const& b) { return a.second > b.second; });
  std::vector<int> out;
  for (std::size_t i = 0; i < v.size() && static_cast<int>(i) < n; ++i) {
    out.push_back(v[i].first);
  }
  return out;
}

//! The stats of the module with the largest r(m) (ties: the first in ModuleId order).
//! Throws when `stats` holds no module with a measured ratio.
inline ModuleStats const& top_module(std::span<ModuleStats const> stats) {
  ModuleStats const* best = nullptr;
  for (auto const& s : stats) {
    if (!std::isnan(s.ratio) && (best == nullptr || s.ratio > best->ratio)) {
      best = &s;
    }
  }
  require(best != nullptr, ErrorKind::kInvalidArgument, "top_module: no module has a ratio");
  return *best;
}

}  // namespace spikequant::v0::calib
