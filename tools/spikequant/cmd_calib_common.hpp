// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Shared pieces of the calibration subcommands: planted-spike options, token text,
//! the --qfem / --qfep / --smoothquant / --recipe eval flags (add_eval_calib_options and
//! configure_eval_calib, which run_eval calls).
#pragma once

#include "common.hpp"
#include "eval_setup.hpp"
#include "progress.hpp"
#include "spikequant/calib/pipeline.hpp"
#include "spikequant/calib/recipe.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace spikequant_tool {

namespace calib = spikequant::calib;

//! The id of "." in a tokenizer (the default --plant-token), or -1.
inline int period_token(sq::io::Tokenizer const& tok) {
  if (auto const* bin = std::get_if<sq::io::BinTokenizer>(&tok.impl())) {
    return bin->piece_to_id(".");
  }
  auto const ids = tok.encode(".", false, false);
  return ids.empty() ? -1 : ids.back();
}

//! Printable text of one token (control characters escaped).
inline std::string token_text(sq::io::Tokenizer const* tok, int id) {
  if (tok == nullptr || id < 0 || id >= tok->vocab_size()) {
    return "#" + std::to_string(id);
  }
  std::string piece = tok->id_to_piece(id);
  std::string out;
  for (char c : piece) {
    if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "?";
    } else {
      out += c;
    }
  }
  return out;
}

//! Text of several ids joined (the prefix text).
inline std::string ids_text(sq::io::Tokenizer const* tok, std::vector<int> const& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) {
      s += '|';
    }
    s += token_text(tok, ids[i]);
  }
  return s;
}

//! Adds --plant-spikes / --plant-token to a parser.
inline void add_plant_options(ArgParser& p) {
  p.option(
       "plant-spikes",
       "F",
       "multiply the down input rows of BOS and the first --plant-token in the first and last "
       "layers by F (and divide the down output): float unchanged, quantizers see spikes")
      .option(
          "plant-token", "ID", "token whose first occurrence spikes (default: the id of \".\")");
}

//! The planted-spike hook the options ask for, or null.
inline std::shared_ptr<calib::PlantedSpikesHook> make_plant_hook(
    ParsedArgs const& args, sq::llama::Model const& model, sq::io::Tokenizer const* tok) {
  if (!args.has("plant-spikes")) {
    if (args.has("plant-token")) {
      throw UsageError("--plant-token needs --plant-spikes F");
    }
    return nullptr;
  }
  double const f = args.get_double("plant-spikes");
  if (!(f > 0.0) || !std::isfinite(f)) {
    throw UsageError("--plant-spikes must be a finite number > 0");
  }
  int token = -1;
  if (args.has("plant-token")) {
    token = static_cast<int>(args.get_int("plant-token"));
  } else if (tok != nullptr) {
    token = period_token(*tok);
  }
  if (token < 0 || token >= model.config().vocab_size) {
    throw UsageError("--plant-token: need a token id in [0, vocab) (no tokenizer to find \".\")");
  }
  return std::make_shared<calib::PlantedSpikesHook>(
      calib::PlantSpikesOptions{static_cast<float>(f), token, model.config().bos_id, {}},
      model.config().n_layers);
}

//! Parses "ID ID ID" (spaces or commas).
inline std::vector<int> parse_ids(std::string const& s, std::string const& option) {
  std::vector<int> ids;
  std::string word;
  std::istringstream in(s);
  auto push = [&](std::string const& w) {
    if (w.empty()) {
      return;
    }
    try {
      std::size_t n = 0;
      int const v = std::stoi(w, &n);
      if (n != w.size() || v < 0) {
        throw std::invalid_argument(w);
      }
      ids.push_back(v);
    } catch (std::exception const&) {
      throw UsageError("--" + option + ": '" + w + "' is not a token id");
    }
  };
  while (in >> word) {
    std::string part;
    std::istringstream parts(word);
    while (std::getline(parts, part, ',')) {
      push(part);
    }
  }
  return ids;
}

//! Module names as JSON (HF names).
inline nlohmann::json module_names(std::set<sq::ModuleId> const& ids) {
  nlohmann::json a = nlohmann::json::array();
  for (auto const& id : ids) {
    a.push_back(sq::hf_name(id));
  }
  return a;
}

//! The alpha-search curve as JSON.
inline nlohmann::json curve_json(calib::AlphaSearchResult const& s) {
  nlohmann::json a = nlohmann::json::array();
  for (auto const& p : s.curve) {
    a.push_back(
        {{"alpha", p.is_reference ? nlohmann::json(nullptr) : nlohmann::json(p.alpha)},
         {"excluded_groups", p.excluded},
         {"calib_ppl", p.ppl},
         {"all_w8a16_reference", p.is_reference}});
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// eval flags: --qfem, --qfep, --smoothquant, --recipe, --plant-spikes, --plant-token

inline void add_eval_calib_options(ArgParser& p) {
  p.option(
       "qfem",
       "off|auto|ALPHA",
       "QFeM: modules with r(m) > ALPHA run W8A16 (siblings too); auto searches alpha on the "
       "calibration text (1% of the all-W8A16 calib ppl, at most 25% of the groups)",
       "off")
      .option(
          "qfep",
          "off|auto|\"ID ID ID\"",
          "QFeP: prefix found by the search (auto) or given as ids (BOS first); its float KV "
          "cache starts every window",
          "off")
      .option(
          "smoothquant",
          "off|A",
          "SmoothQuant with strength A (e.g. 0.8) on the q/k/v and gate/up inputs",
          "off")
      .option(
          "recipe",
          "FILE",
          "apply a recipe written by --write-recipe or calibrate --recipe: its scheme (unless "
          "--scheme is given), BMM setting (unless --bmm is given), planted spikes, prefix, "
          "smoothing, exclusions and static scales "
          "(then no --calib is needed); a --qfem/--qfep/--smoothquant/--plant-spikes flag "
          "replaces that part")
      .option(
          "write-recipe",
          "FILE",
          "write what this run decided (scheme, BMM setting, exclusions, alpha, prefix, smoothing, "
          "static "
          "scales, planted spikes) as a recipe JSON");
  add_plant_options(p);
}

inline void configure_eval_calib(EvalSetup& s) {
  auto const& args = s.args;
  auto& model = s.model;
  auto const& cfg = model.config();
  int const bos = cfg.bos_id;
  std::string const qfem = args.get("qfem");
  std::string const qfep = args.get("qfep");
  std::string const smooth = args.get("smoothquant");
  bool const want_any = qfem != "off" || qfep != "off" || smooth != "off" || args.has("recipe") ||
                        args.has("plant-spikes") || args.has("write-recipe");
  if (!want_any) {
    return;
  }
  // The recipe first: its scheme (unless --scheme is given), planted spikes, prefix,
  // smoothing, exclusions and static scales apply unless a flag of this run replaces them.
  std::optional<calib::Recipe> loaded;
  if (args.has("recipe")) {
    loaded = calib::read_recipe(args.get("recipe"));
    calib::check_recipe_fits(*loaded, model.module_ids(), cfg.n_layers, cfg.dim, cfg.vocab_size);
    std::string const path = args.get("model");
    if (!loaded->model_hash.empty() && fs::is_regular_file(path) &&
        calib::file_hash(path) != loaded->model_hash) {
      std::fprintf(
          stderr,
          "spikequant: warning: the recipe was written for %s (%s), not for this model file\n",
          loaded->model_path.c_str(),
          loaded->model_hash.c_str());
    }
    if (!args.has("bmm")) {
      s.bmm = loaded->bmm;
    }
    if (!args.has("scheme")) {
      s.scheme = parse_scheme(std::string(sq::to_string(loaded->scheme)));
      s.plan = s.scheme.plan();
    }
    s.plan.set_bmm(s.bmm);
  }
  if (!s.scheme.act && (qfem != "off" || smooth != "off")) {
    throw UsageError("--qfem and --smoothquant need a w8a8 --scheme");
  }
  if (!s.scheme.act && args.has("write-recipe")) {
    throw UsageError("--write-recipe needs a w8a8 --scheme (the recipe records the scheme)");
  }
  // Planted spikes first: everything after sees them.
  std::shared_ptr<calib::PlantedSpikesHook> hook = make_plant_hook(args, model, s.tokenizer);
  if (!hook && loaded && loaded->plant_spikes) {
    hook = std::make_shared<calib::PlantedSpikesHook>(*loaded->plant_spikes, cfg.n_layers);
  }
  if (hook) {
    s.hook = hook;
    s.json["plant_spikes"] = {
        {"factor", hook->spikes().options().factor},
        {"token", hook->spikes().options().token},
        {"modules", module_names(hook->spikes().planted_modules(cfg.n_experts))}};
  }
  // The recipe's static scales were measured with its spikes, prefix and smoothing; a flag
  // that changes those activations makes eval recalibrate them from --calib.
  bool const recipe_activations = !args.has("plant-spikes") && qfep == "off" && smooth == "off";
  calib::Recipe recipe;
  // QFeP.
  std::vector<int> prefix_ids;
  std::optional<calib::SharedCalibration> shared;
  auto windows = [&]() { return s.calib_windows(); };
  auto ensure_shared = [&]() -> calib::SharedCalibration& {
    if (!shared) {
      auto const w = windows();
      Stage st("calibration statistics (" + std::to_string(w.size()) + " windows)");
      shared = calib::SharedCalibration{
          calib::collect_statistics(model, w, {nullptr, s.hook.get(), {}}), {}};
    }
    return *shared;
  };
  if (qfep == "auto") {
    auto const w = windows();
    auto& sh = ensure_shared();
    Stage st("qfep: prefix search");
    auto const& r = calib::ensure_prefix_search(sh, model, w, {}, s.hook.get());
    st.done();
    prefix_ids = r.prefix;
    s.json["qfep_search"] = {
        {"module", sq::hf_name(r.module)},
        {"candidates", r.candidates},
        {"best_context", r.best.context},
        {"best_candidate", r.best.candidate},
        {"score", r.best.score}};
  } else if (qfep != "off") {
    prefix_ids = parse_ids(qfep, "qfep");
    if (prefix_ids.empty() || prefix_ids.front() != bos) {
      throw UsageError("--qfep: the prefix ids must start with BOS (" + std::to_string(bos) + ")");
    }
    model.check_tokens(prefix_ids);
  } else if (loaded && !loaded->prefix_ids.empty()) {
    prefix_ids = loaded->prefix_ids;
    model.check_tokens(prefix_ids);
  }
  if (!prefix_ids.empty()) {
    s.prefix = calib::make_prefix(model, prefix_ids, s.hook.get());
  }
  // SmoothQuant (calibrated with the prefix present), or the recipe's factors.
  if (smooth != "off") {
    double const a = args.get_double("smoothquant");
    if (!(a >= 0.0 && a <= 1.0)) {
      throw UsageError("--smoothquant: A must be in [0, 1]");
    }
    std::set<sq::ModuleId> fixed;
    if (qfem != "off" && qfem != "auto") {
      fixed = calib::qfem_select(
          calib::module_infos(ensure_shared().plain.stats), args.get_double("qfem"));
    }
    auto const w = windows();
    Stage st("smoothquant: channel statistics and factors");
    auto const cal =
        calib::collect_statistics(model, w, {s.prefix ? &*s.prefix : nullptr, s.hook.get(), {}});
    auto const sm =
        calib::smoothquant_factors(model.weights(), cal.channels, static_cast<float>(a), fixed);
    model.mutable_weights() = calib::apply_smoothing(model.weights(), sm);
    recipe.smoothing = sm;
    s.json["smoothquant"] = a;
  } else if (loaded && loaded->smoothing) {
    model.mutable_weights() = calib::apply_smoothing(model.weights(), *loaded->smoothing);
    recipe.smoothing = loaded->smoothing;
    s.json["smoothquant"] = loaded->smoothing->alpha;
  }
  if (!prefix_ids.empty()) {
    if (recipe.smoothing) {
      s.prefix = calib::make_prefix(model, prefix_ids, s.hook.get());  // smoothed weights
    }
    static sq::llama::QuantPlan const fp{};
    Stage st("qfep: float perplexity with the prefix");
    auto const r = calib::evaluate_ppl(
        model, s.eval_stream, s.seq_len, fp, &*s.prefix, s.hook.get(), s.max_tokens);
    s.json["prefix"] = prefix_ids;
    s.json["prefix_text"] = ids_text(s.tokenizer, prefix_ids);
    s.json["float_ppl_with_prefix"] = r.ppl;
  }
  // QFeM.
  std::set<sq::ModuleId> excluded;
  if (qfem == "auto") {
    auto& sh = ensure_shared();
    auto const w = windows();
    std::map<sq::ModuleId, float> scales;
    if (s.scheme.act == sq::ActScheme::kStatic) {
      Stage st("qfem: static scales for the search");
      auto const cal =
          calib::collect_statistics(model, w, {s.prefix ? &*s.prefix : nullptr, s.hook.get(), {}});
      scales = calib::static_scales(cal.stats, model.module_ids());
    }
    auto const stream = calib::windows_stream(w, bos);
    Stage st("qfem: alpha search (calibration perplexity per candidate)");
    auto evaluator = [&](std::set<sq::ModuleId> const& ex) {
      auto plan = calib::make_plan(*s.scheme.act, ex, scales);
      plan.set_bmm(s.bmm);  // the search scores the plan the evaluation runs
      double const ppl = calib::evaluate_ppl(
                             model,
                             stream,
                             static_cast<int>(w.front().size()),
                             plan,
                             s.prefix ? &*s.prefix : nullptr,
                             s.hook.get())
                             .ppl;
      char note[64];
      std::snprintf(note, sizeof(note), "(last: %zu excluded, ppl %.4f)", ex.size(), ppl);
      st.tick(note);
      return ppl;
    };
    auto const res = calib::search_alpha(calib::module_infos(sh.plain.stats), evaluator);
    st.done();
    excluded = res.modules;
    recipe.alpha = res.alpha;
    s.json["qfem_alpha"] = res.alpha;
    s.json["qfem_search"] = {
        {"reference_all_w8a16_calib_ppl", res.reference_ppl},
        {"target_calib_ppl", res.target_ppl},
        {"within_tolerance", res.within_tolerance},
        {"evaluations", res.evaluations},
        {"curve", curve_json(res)}};
  } else if (qfem != "off") {
    double const alpha = args.get_double("qfem");
    excluded = calib::qfem_select(calib::module_infos(ensure_shared().plain.stats), alpha);
    recipe.alpha = alpha;
    s.json["qfem_alpha"] = alpha;
  } else if (loaded) {
    excluded = loaded->excluded;
    recipe.alpha = loaded->alpha;
  }
  if (qfem != "off" || (s.scheme.act && loaded && !loaded->excluded.empty())) {
    for (auto const& id : excluded) {
      s.plan.set_mode(id, sq::LinearMode::kW8A16);
    }
    s.json["excluded_modules"] = module_names(excluded);
    s.json["excluded_groups"] = calib::group_representatives(excluded).size();
    auto const all_ids = model.module_ids();
    s.json["total_groups"] =
        calib::group_representatives(std::set<sq::ModuleId>(all_ids.begin(), all_ids.end())).size();
  }
  // Static scales from the recipe: every module that runs w8a8-static needs one.
  auto const ids = model.module_ids();
  if (loaded && !loaded->static_scales.empty() && s.plan.uses_static(ids)) {
    if (recipe_activations) {
      for (auto const& id : ids) {
        auto const q = s.plan.get(id);
        sq::require(
            q.mode != sq::LinearMode::kW8A8 || q.act != sq::ActScheme::kStatic ||
                loaded->static_scales.contains(id),
            sq::ErrorKind::kFormat,
            "recipe: static_scales has no scale for ",
            sq::hf_name(id));
      }
      s.plan.set_static_scales(loaded->static_scales);
      s.json["static_scales"] = "recipe";
    } else {
      s.json["static_scales"] = "recalibrated (--qfep, --smoothquant or --plant-spikes given)";
    }
  }
  // Static calibration and the evaluation continue after the prefix's cache: make the hook's
  // token history the prefix again (searches above ran other sequences through it).
  if (s.prefix) {
    calib::declare_prefix(s.hook.get(), s.prefix->ids);
  }
  if (args.has("write-recipe")) {
    std::string const model_path = args.get("model");
    recipe.model_path = model_path;
    recipe.model_hash = fs::is_regular_file(model_path) ? calib::file_hash(model_path) : "";
    recipe.scheme = *s.scheme.act;
    recipe.bmm = s.bmm;
    recipe.excluded = excluded;
    recipe.prefix_ids = prefix_ids;
    recipe.prefix_text = ids_text(s.tokenizer, prefix_ids);
    if (hook) {
      recipe.plant_spikes = hook->spikes().options();
    }
    // Written once the static scales the evaluation runs with are known.
    s.after_calibration.push_back([recipe, out = args.get("write-recipe")](EvalSetup const& st) {
      calib::Recipe r = recipe;
      if (r.scheme == sq::ActScheme::kStatic) {
        r.static_scales = st.plan.static_scales();
      }
      calib::write_recipe(r, out);
    });
  }
}

}  // namespace spikequant_tool
