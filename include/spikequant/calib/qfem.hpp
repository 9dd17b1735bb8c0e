// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file QFeM (quantization-free modules): the unquantized set M_unq = {m : r(m) > alpha}
//! expanded to siblings, and the documented alpha search. Host only.
//!
//! Counting: |M| and |M_unq| count **sibling groups** ({q,k,v}, o, {gate,up}, down: 4 per
//! dense layer), as the paper does (LLaMA-2-7B: 17 of 128 = 32 layers x 4). The sets of
//! ModuleIds returned are expanded to every member of each group (q, k, v, ...).
//!
//! Alpha search (the paper describes a binary search but the reference code does not ship
//! one, so this is ours; deterministic):
//! - candidate thresholds: the distinct r(m) values sorted descending, v_0 > v_1 > ...;
//!   alpha = v_k excludes the groups with r(m) > v_k (strictly above it), so alpha = v_0
//!   excludes nothing (same as alpha = infinity);
//! - reference: the calibration perplexity with ALL groups W8A16 (the quantization-free
//!   limit of QFeM); target = reference * (1 + rel_tolerance), default tolerance 1%;
//! - cap: at most max_excluded_fraction of the groups (default 25%) may be excluded;
//! - objective: the smallest |M_unq| (largest alpha) whose perplexity <= target;
//! - assumption: perplexity does not increase as more high-r(m) groups are excluded
//!   (monotone in k), so a binary search over k finds the boundary with O(log |M|)
//!   evaluations (plus the reference, k = 0 and the cap);
//! - when even the cap misses the target, the cap's point is returned with
//!   within_tolerance = false.
#pragma once

#include "spikequant/calib/stats.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/exclude.hpp"
#include "spikequant/core/module.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <vector>

namespace spikequant::inline v0::calib {

//! Every member of the sibling groups of `ids`, experts kept (an expert's {gate,up} stays
//! within that expert).
inline std::set<ModuleId> expand_siblings(std::set<ModuleId> const& ids) {
  std::set<ModuleId> out;
  for (auto const& id : ids) {
    for (ModuleKind k : siblings(id.kind)) {
      out.insert(ModuleId{id.layer, k, id.expert});
    }
  }
  return out;
}

//! The representatives (q, o, up, down) of the groups in `ids`.
inline std::set<ModuleId> group_representatives(std::set<ModuleId> const& ids) {
  std::set<ModuleId> out;
  for (auto const& id : ids) {
    out.insert(ModuleId{id.layer, representative(id.kind), id.expert});
  }
  return out;
}

//! ModuleInfo (id, r(m)) of each statistics entry.
inline std::vector<ModuleInfo> module_infos(std::span<ModuleStats const> stats) {
  std::vector<ModuleInfo> out;
  out.reserve(stats.size());
  for (auto const& s : stats) {
    out.push_back({s.id, s.ratio});
  }
  return out;
}

//! The modules a filter selects among `infos`, expanded to siblings. A group is excluded
//! when the filter selects any of its members given (a member inherits its representative's
//! ratio when only representatives were measured).
inline std::set<ModuleId>
select_unquantized(std::span<ModuleInfo const> infos, ModuleFilter const& filter) {
  std::set<ModuleId> picked;
  for (auto const& m : infos) {
    for (ModuleKind k : siblings(m.id.kind)) {
      ModuleInfo const member{{m.id.layer, k, m.id.expert}, m.ratio};
      if (filter(member)) {
        picked.insert(m.id);
        break;
      }
    }
  }
  return expand_siblings(picked);
}

//! QFeM's M_unq = {m : r(m) > alpha}, expanded to siblings. `extra` adds user predicates
//! (`qfem_select(infos, 6.68, name_matches("layers\\.0\\."))` excludes both).
inline std::set<ModuleId> qfem_select(
    std::span<ModuleInfo const> infos, double alpha, ModuleFilter const& extra = exclude_none()) {
  return select_unquantized(infos, ratio_above(alpha) || extra);
}

//! Every module of every group in `infos` (for the all-W8A16 reference).
inline std::set<ModuleId> all_modules(std::span<ModuleInfo const> infos) {
  std::set<ModuleId> ids;
  for (auto const& m : infos) {
    ids.insert(m.id);
  }
  return expand_siblings(ids);
}

//! Options of search_alpha (see the file comment for the objective).
struct AlphaSearchOptions {
  double rel_tolerance = 0.01;          //!< target = reference ppl * (1 + rel_tolerance)
  double max_excluded_fraction = 0.25;  //!< cap on |M_unq| / |M| (groups)
};

//! One evaluated point of the trade-off curve (the paper's Figure 4 analog).
struct AlphaPoint {
  double alpha = 0.0;         //!< threshold; -inf for the all-W8A16 reference point
  int excluded = 0;           //!< |M_unq| in groups
  double ppl = 0.0;           //!< calibration perplexity
  bool is_reference = false;  //!< the all-W8A16 point (alpha below every r(m))
};

//! What search_alpha chose.
struct AlphaSearchResult {
  double alpha = std::numeric_limits<double>::infinity();
  int excluded = 0;            //!< |M_unq| in groups
  int total = 0;               //!< |M| in groups
  std::set<ModuleId> modules;  //!< M_unq expanded to siblings
  double ppl = 0.0;            //!< calibration perplexity at the chosen point
  double reference_ppl = 0.0;  //!< all groups W8A16
  double target_ppl = 0.0;     //!< reference * (1 + tolerance)
  bool within_tolerance = false;
  int evaluations = 0;            //!< evaluator calls, reference included
  std::vector<AlphaPoint> curve;  //!< evaluated points, sorted by |M_unq|
};

//! Calibration perplexity with the given modules W8A16 and all others W8A8.
using ExclusionEvaluator = std::function<double(std::set<ModuleId> const& excluded)>;

//! The documented alpha search (file comment). `infos` holds one entry per sibling group
//! (representatives) with its r(m); entries without a ratio are never excluded except by the
//! reference. Deterministic: same inputs, same evaluations in the same order.
inline AlphaSearchResult search_alpha(
    std::span<ModuleInfo const> infos,
    ExclusionEvaluator const& evaluate,
    AlphaSearchOptions const& options = {}) {
  require(!infos.empty(), ErrorKind::kInvalidArgument, "search_alpha: no modules");
  require(
      options.rel_tolerance >= 0.0 && options.max_excluded_fraction >= 0.0 &&
          options.max_excluded_fraction <= 1.0,
      ErrorKind::kInvalidArgument,
      "search_alpha: rel_tolerance must be >= 0 and max_excluded_fraction in [0, 1]");
  std::vector<ModuleInfo> groups;
  {
    std::set<ModuleId> seen;
    for (auto const& m : infos) {
      ModuleId const rep{m.id.layer, representative(m.id.kind), m.id.expert};
      if (seen.insert(rep).second) {
        groups.push_back({rep, m.ratio});
      }
    }
  }
  AlphaSearchResult res;
  res.total = static_cast<int>(groups.size());

  // Distinct ratios, descending: v_0 > v_1 > ...
  std::vector<double> v;
  for (auto const& g : groups) {
    if (!std::isnan(g.ratio)) {
      v.push_back(g.ratio);
    }
  }
  std::sort(v.begin(), v.end(), std::greater<>());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  require(!v.empty(), ErrorKind::kInvalidArgument, "search_alpha: no module has a ratio");

  auto excluded_at = [&](std::size_t k) {
    std::set<ModuleId> reps;
    for (auto const& g : groups) {
      if (!std::isnan(g.ratio) && g.ratio > v[k]) {
        reps.insert(g.id);
      }
    }
    return reps;
  };
  auto const cap = static_cast<int>(
      std::floor(options.max_excluded_fraction * static_cast<double>(res.total) + 1e-9));
  // k_cap: the largest k whose exclusion count stays within the cap.
  std::size_t k_cap = 0;
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (static_cast<int>(excluded_at(k).size()) <= cap) {
      k_cap = k;
    } else {
      break;
    }
  }

  std::map<std::size_t, double> memo;
  auto ppl_at = [&](std::size_t k) {
    if (auto it = memo.find(k); it != memo.end()) {
      return it->second;
    }
    auto const reps = excluded_at(k);
    double const p = evaluate(expand_siblings(reps));
    ++res.evaluations;
    memo[k] = p;
    res.curve.push_back({v[k], static_cast<int>(reps.size()), p, false});
    return p;
  };

  std::set<ModuleId> all_reps;
  for (auto const& g : groups) {
    all_reps.insert(g.id);
  }
  res.reference_ppl = evaluate(expand_siblings(all_reps));
  ++res.evaluations;
  res.curve.push_back(
      {-std::numeric_limits<double>::infinity(), res.total, res.reference_ppl, true});
  res.target_ppl = res.reference_ppl * (1.0 + options.rel_tolerance);

  std::size_t chosen = 0;
  if (ppl_at(0) <= res.target_ppl) {
    chosen = 0;
    res.within_tolerance = true;
  } else if (ppl_at(k_cap) > res.target_ppl) {
    chosen = k_cap;
    res.within_tolerance = false;
  } else {
    // Invariant: ppl(lo) > target, ppl(hi) <= target.
    std::size_t lo = 0;
    std::size_t hi = k_cap;
    while (hi - lo > 1) {
      std::size_t const mid = lo + (hi - lo) / 2;
      if (ppl_at(mid) <= res.target_ppl) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    chosen = hi;
    res.within_tolerance = true;
  }
  auto const reps = excluded_at(chosen);
  res.alpha = v[chosen];
  res.excluded = static_cast<int>(reps.size());
  res.modules = expand_siblings(reps);
  res.ppl = memo.at(chosen);
  std::sort(res.curve.begin(), res.curve.end(), [](AlphaPoint const& a, AlphaPoint const& b) {
    return a.excluded < b.excluded || (a.excluded == b.excluded && a.alpha > b.alpha);
  });
  return res;
}

}  // namespace spikequant::v0::calib
