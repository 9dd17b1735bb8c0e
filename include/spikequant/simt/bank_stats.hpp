// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Shared-memory bank-conflict accounting: 32 banks of 4 bytes; a warp's request is served
//! in as many wavefronts as the busiest bank has distinct words (same word: a broadcast).
#pragma once

#include "spikequant/simt/site.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <tuple>
#include <vector>

namespace spikequant::inline v0::simt {

//! One lane's part of a shared-memory request.
struct LaneAccess {
  std::uint32_t addr = 0;
  std::uint32_t bytes = 0;
};

//! Wavefronts one phase of a request needs (>= 1 when anything is accessed).
inline int wavefronts(std::span<LaneAccess const> phase) {
  // At most 32 lanes x 4 words (16-byte accesses) per phase.
  std::array<std::uint32_t, 128> words{};
  std::size_t n = 0;
  for (LaneAccess const& a : phase) {
    for (std::uint32_t w = a.addr / 4; w <= (a.addr + a.bytes - 1) / 4 && n < words.size(); ++w) {
      words[n++] = w;
    }
  }
  std::array<int, 32> per_bank{};
  int most = 0;
  for (std::size_t i = 0; i < n; ++i) {
    bool repeat = false;  // the same word again is a broadcast, not a conflict
    for (std::size_t k = 0; k < i && !repeat; ++k) {
      repeat = words[k] == words[i];
    }
    if (!repeat) {
      most = std::max(most, ++per_bank[words[i] % 32]);
    }
  }
  return most;
}

//! Totals of one call site (one shared-memory instruction of a kernel).
struct BankSiteStats {
  std::string site;  //!< "file:line"
  std::string op;    //!< "ldmatrix.x4", "ld.shared", "st.shared"
  std::uint64_t requests = 0;
  std::uint64_t wavefronts = 0;
  std::uint64_t ideal = 0;  //!< wavefronts with no conflict (one per phase)
  std::uint64_t conflicts() const noexcept { return wavefronts - ideal; }
};

//! Process-wide table, filled by every emulated launch until reset.
class BankStats {
public:
  //! Records one request split into phases (the hardware serves each phase separately).
  void record(Site const& site, char const* op, std::span<LaneAccess const> lanes, int phases) {
    std::size_t const per =
        (lanes.size() + static_cast<std::size_t>(phases) - 1) / static_cast<std::size_t>(phases);
    std::uint64_t w = 0;
    int used = 0;
    for (std::size_t b = 0; b < lanes.size(); b += per) {
      w +=
          static_cast<std::uint64_t>(wavefronts(lanes.subspan(b, std::min(per, lanes.size() - b))));
      ++used;
    }
    std::lock_guard lock(mutex_);
    BankSiteStats& s = sites_[Key{site.file_name(), site.line(), site.column(), op}];
    if (s.requests == 0) {
      s.site = where(site);
      s.op = op;
    }
    s.requests += 1;
    s.wavefronts += w;
    s.ideal += static_cast<std::uint64_t>(used);
  }

  std::vector<BankSiteStats> report() const {
    std::lock_guard lock(mutex_);
    std::vector<BankSiteStats> out;
    for (auto const& [k, v] : sites_) {
      out.push_back(v);
    }
    return out;
  }

  //! Sum of conflict wavefronts over all sites.
  std::uint64_t total_conflicts() const {
    std::uint64_t n = 0;
    for (auto const& s : report()) {
      n += s.conflicts();
    }
    return n;
  }

  void reset() {
    std::lock_guard lock(mutex_);
    sites_.clear();
  }

private:
  using Key = std::tuple<char const*, unsigned, unsigned, char const*>;
  mutable std::mutex mutex_;
  std::map<Key, BankSiteStats> sites_;
};

//! The table every launch reports into.
inline BankStats& bank_stats() {
  static BankStats s;
  return s;
}

}  // namespace spikequant::v0::simt
