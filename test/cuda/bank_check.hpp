// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Emulator-only check of a kernel's "conflict-free" claim: after the launches since the
//! last reset, every shared-memory instruction that ran needed no more wavefronts than phases.
#pragma once

#if defined(SPIKEQUANT_SIMT)
#  include "spikequant/simt/bank_stats.hpp"

#  include <algorithm>
#  include <doctest/doctest.h>
#  include <string>
#  include <vector>

namespace spikequant_test {

//! Checks the bank statistics since the last reset: each op in `expected` ran, none conflicted.
inline void check_bank_conflict_free(std::vector<std::string> const& expected) {
  auto const report = spikequant::simt::bank_stats().report();
  for (std::string const& op : expected) {
    bool const ran =
        std::any_of(report.begin(), report.end(), [&](auto const& s) { return s.op == op; });
    CHECK_MESSAGE(ran, op, " never executed");
  }
  for (auto const& s : report) {
    INFO(s.op, " at ", s.site, ": ", s.wavefronts, " wavefronts for ", s.ideal, " phases");
    CHECK(s.conflicts() == 0);
  }
}

}  // namespace spikequant_test
#endif
