// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file `spikequant report`: the paper's Table 3 analog on stories260K, for the real model
//! and with planted spikes: FP32, and for AQ1/AQ2/AQ3 W8A8, +QFeM, +QFeP, +both; with the
//! chosen alpha, |M_unq|/|M| and prefix; JSON, markdown and SVG plots in --out.
#pragma once

#include "cmd_calib_common.hpp"
#include "spikequant/calib/plot_svg.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace spikequant_tool {

//! SmoothQuant strength of the report's SQ rows: 0.8, as the paper's reference code uses for
//! these models.
inline constexpr float kReportSmoothQuantStrength = 0.8f;

inline ArgParser report_parser() {
  ArgParser p(
      "report",
      "Reproduces the paper's Table 3 on stories260K: calibrates on the first --calib-tokens\n"
      "tokens of TinyStories (validation text), evaluates on the next --eval-tokens (disjoint),\n"
      "for the real model and with planted spikes (factor --plant-factor at L0/L-last down on BOS\n"
      "and the first \".\"). QFeM and QFeP are searched automatically (documented defaults); the\n"
      "SQ rows add SmoothQuant (a = 0.8) on the q/k/v and gate/up inputs.");
  p.option("data", "DIR", "the shared data folder", sq::io::find_data_dir().string())
      .option("out", "DIR", "output folder (report.json, table.md, *.svg)", "spikequant-report")
      .option("seq-len", "L", "window length including BOS (calibration and evaluation)", "128")
      .option("calib-tokens", "N", "calibration tokens (the first N of the text)", "2048")
      .option("eval-tokens", "N", "evaluation tokens (the N after the calibration part)", "8192")
      .option("plant-factor", "F", "planted spike factor", "1000");
  return p;
}

namespace detail {
struct ReportRow {
  std::string method;
  calib::MethodResult r;
};

inline std::string fmt_ppl(double v) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.3f", v);
  return b;
}
}  // namespace detail

inline int run_report(std::span<std::string const> words) {
  ArgParser const parser = report_parser();
  ParsedArgs const args = parser.parse(words);
  if (args.help()) {
    std::cout << parser.usage();
    return 0;
  }
  auto const t0 = std::chrono::steady_clock::now();
  fs::path const data = args.get("data");
  if (data.empty()) {
    throw UsageError("no data folder found: pass --data DIR or set SPIKEQUANT_DATA");
  }
  int const seq_len = static_cast<int>(args.get_int("seq-len"));
  auto const n_calib = args.get_int("calib-tokens");
  auto const n_eval = args.get_int("eval-tokens");
  double const factor = args.get_double("plant-factor");
  if (seq_len < 2 || n_calib < seq_len || n_eval < 1 || !(factor > 0.0)) {
    throw UsageError(
        "need --seq-len >= 2, --calib-tokens >= seq-len, --eval-tokens >= 1, --plant-factor > 0");
  }
  fs::path const out = args.get("out");
  fs::create_directories(out);
  fs::path const model_path = data / "models" / "stories260K" / "stories260K.bin";
  sq::llama::Model model(load_weights(model_path.string()));
  auto const tok = sq::io::load_tokenizer(data / "models" / "stories260K" / "tok512.bin");
  fs::path const text_path = data / "text" / "tinystories_val.txt";
  // Tokenize only as much text as needed (about 4 bytes per token is plenty for this text).
  std::string text = sq::io::read_text_file(text_path);
  auto const want = static_cast<std::size_t>(n_calib + n_eval);
  std::vector<int> stream;
  for (std::size_t bytes = want * 4;; bytes *= 2) {
    stream =
        tok.encode(std::string_view(text).substr(0, std::min(bytes, text.size())), false, false);
    if (stream.size() >= want || bytes >= text.size()) {
      break;
    }
  }
  sq::require(
      stream.size() >= want,
      sq::ErrorKind::kInvalidArgument,
      "the text has ",
      stream.size(),
      " tokens, fewer than calib + eval = ",
      want);
  std::span<int const> const all(stream);
  auto const calib_windows = sq::llama::make_windows(
      all.first(static_cast<std::size_t>(n_calib)), seq_len, model.config().bos_id);
  auto const eval =
      all.subspan(static_cast<std::size_t>(n_calib), static_cast<std::size_t>(n_eval));
  int const dot = period_token(tok);

  nlohmann::json report = {
      {"model", model_path.string()},
      {"model_hash", calib::file_hash(model_path)},
      {"text", text_path.string()},
      {"seq_len", seq_len},
      {"calib_tokens", n_calib},
      {"calib_windows", calib_windows.size()},
      {"eval_tokens", n_eval},
      {"eval_range", {n_calib, n_calib + n_eval}},
      {"qfem_search", {{"rel_tolerance", 0.01}, {"max_excluded_fraction", 0.25}}},
      {"scenarios", nlohmann::json::array()}};
  std::ostringstream md;
  md << "Command: `spikequant report --seq-len " << seq_len << " --calib-tokens " << n_calib
     << " --eval-tokens " << n_eval << " --plant-factor " << factor << "`\n\n";

  struct Scenario {
    std::string name;
    std::string slug;
    bool planted;
  };
  std::vector<Scenario> const scenarios = {
      {"stories260K (real model)", "real", false},
      {"stories260K with planted spikes (x" + std::to_string(static_cast<long long>(factor)) +
           " at L0.down and L" + std::to_string(model.config().n_layers - 1) +
           ".down on BOS and the first '.')",
       "planted",
       true}};
  static sq::llama::QuantPlan const fp{};
  for (auto const& sc : scenarios) {
    std::shared_ptr<calib::PlantedSpikesHook> hook;
    if (sc.planted) {
      hook = std::make_shared<calib::PlantedSpikesHook>(
          calib::PlantSpikesOptions{static_cast<float>(factor), dot, model.config().bos_id, {}},
          model.config().n_layers);
    }
    calib::CollectOptions co;
    co.hook = hook.get();
    calib::SharedCalibration shared{calib::collect_statistics(model, calib_windows, co), {}};
    double const float_ppl = calib::evaluate_ppl(model, eval, seq_len, fp, nullptr, hook.get()).ppl;
    std::fprintf(stderr, "[%s] float ppl %.4f\n", sc.slug.c_str(), float_ppl);

    struct SchemeCol {
      sq::ActScheme act;
      std::string name;
    };
    std::vector<SchemeCol> cols;
    for (sq::ActScheme const a : sq::kAllActSchemes) {
      cols.push_back({a, std::string(sq::paper_name(a))});
    }
    // SmoothQuant rows (a = 0.8, the reference code's strength) show what outlier smoothing
    // alone does to the spikes, and QFeM + QFeP applied during its calibration (PAPER.md).
    std::vector<std::string> const methods = {"W8A8", "+QFeM", "+QFeP", "+both", "SQ", "SQ+both"};
    std::map<std::string, std::map<std::string, calib::MethodResult>> res;  // method -> scheme
    nlohmann::json sj = {{"name", sc.name}, {"slug", sc.slug}, {"float_ppl", float_ppl}};
    nlohmann::json rows = nlohmann::json::array();
    for (auto const& c : cols) {
      for (auto const& m : methods) {
        calib::MethodOptions mo;
        mo.scheme = c.act;
        mo.seq_len = seq_len;
        bool const both = m == "+both" || m == "SQ+both";
        if (m == "+QFeM" || both) {
          mo.qfem_alpha = std::numeric_limits<double>::quiet_NaN();
        }
        mo.qfep = m == "+QFeP" || both;
        if (m.starts_with("SQ")) {
          mo.smoothquant = kReportSmoothQuantStrength;
        }
        auto r = calib::run_method(model, shared, calib_windows, eval, mo, hook.get());
        std::fprintf(
            stderr, "[%s] %s %s ppl %.4f\n", sc.slug.c_str(), c.name.c_str(), m.c_str(), r.ppl);
        nlohmann::json rj = {
            {"scheme", c.name},
            {"method", m},
            {"ppl", r.ppl},
            {"excluded_groups", r.excluded_groups},
            {"total_groups", r.total_groups},
            {"excluded_modules", module_names(r.excluded)}};
        if (mo.smoothquant) {
          rj["smoothquant"] = *mo.smoothquant;
        }
        if (r.alpha) {
          rj["alpha"] = *r.alpha;
        }
        if (r.search) {
          rj["search_curve"] = curve_json(*r.search);
          rj["search_evaluations"] = r.search->evaluations;
          rj["within_tolerance"] = r.search->within_tolerance;
        }
        if (!r.prefix.empty()) {
          rj["prefix"] = r.prefix;
          rj["prefix_text"] = ids_text(&tok, r.prefix);
          rj["float_ppl_with_prefix"] = r.float_ppl_with_prefix;
        }
        rows.push_back(rj);
        res[m][c.name] = std::move(r);
      }
    }
    sj["rows"] = rows;
    if (shared.qfep) {
      sj["qfep"] = {
          {"module", sq::hf_name(shared.qfep->module)},
          {"candidates", shared.qfep->candidates},
          {"candidates_text", ids_text(&tok, shared.qfep->candidates)},
          {"prefix", shared.qfep->prefix},
          {"prefix_text", ids_text(&tok, shared.qfep->prefix)},
          {"score", shared.qfep->best.score}};
    }
    nlohmann::json stats = nlohmann::json::array();
    for (auto const& st : shared.plain.stats) {
      stats.push_back(
          {{"layer", st.id.layer},
           {"kind", std::string(sq::to_string(st.id.kind))},
           {"max", st.max},
           {"median", st.median},
           {"ratio", st.ratio}});
    }
    sj["modules"] = stats;
    report["scenarios"].push_back(sj);

    // Console and markdown table.
    auto const& pre = res["+QFeP"]["AQ2"];
    std::ostringstream t;
    t << "### " << sc.name << "\n\n"
      << "| method | AQ1 (per-token) | AQ2 (per-tensor) | AQ3 (static) |\n|---|---|---|---|\n"
      << "| FP32 | " << detail::fmt_ppl(float_ppl) << " | " << detail::fmt_ppl(float_ppl) << " | "
      << detail::fmt_ppl(float_ppl) << " |\n"
      << "| FP32 + prefix | " << detail::fmt_ppl(pre.float_ppl_with_prefix) << " | "
      << detail::fmt_ppl(pre.float_ppl_with_prefix) << " | "
      << detail::fmt_ppl(pre.float_ppl_with_prefix) << " |\n";
    for (auto const& m : methods) {
      t << "| " << m << " |";
      for (auto const& c : cols) {
        auto const& r = res[m][c.name];
        t << " " << detail::fmt_ppl(r.ppl);
        if (r.search) {
          char b[64];
          std::snprintf(
              b,
              sizeof(b),
              " (α=%.3g, %d/%d)",
              r.alpha.value_or(0.0),
              r.excluded_groups,
              r.total_groups);
          t << b;
        }
        t << " |";
      }
      t << "\n";
    }
    t << "\nQFeP prefix: `" << ids_text(&tok, pre.prefix) << "` (ids";
    for (int id : pre.prefix) {
      t << " " << id;
    }
    t << "), searched at " << (shared.qfep ? sq::short_name(shared.qfep->module) : "?")
      << ". Largest r(m): " << sq::short_name(calib::top_module(shared.plain.stats).id) << " = "
      << detail::fmt_ppl(calib::top_module(shared.plain.stats).ratio) << ".\n";
    auto const& both2 = res["+QFeM"]["AQ2"];
    t << "QFeM (AQ2) excluded:";
    for (auto const& id : calib::group_representatives(both2.excluded)) {
      t << " " << sq::short_name(id);
    }
    t << (both2.excluded.empty() ? " none" : "") << "\n\n";
    std::cout << t.str();
    md << t.str();

    // Plots.
    std::string const what = sc.planted ? " (planted spikes)" : "";
    calib::write_text_file(
        out / ("fig1_layer_max_" + sc.slug + ".svg"),
        calib::render_svg(calib::layer_max_chart(
            shared.plain.stats, "stories260K: max input magnitude per layer" + what)));
    auto const& best = calib::top_module(shared.plain.stats);
    if (!best.kept_scales.empty()) {
      calib::write_text_file(
          out / ("fig2_token_scales_" + sc.slug + ".svg"),
          calib::render_svg(calib::token_scale_chart(
              best.kept_scales.front(),
              "stories260K: token-wise scales of " + sq::short_name(best.id) + " input" + what)));
    }
    if (auto const& r = res["+QFeM"]["AQ2"]; r.search) {
      calib::LineChart c;
      c.title = "QFeM alpha search (AQ2)" + what + ": calibration ppl vs |M_unq|";
      c.x_label = "|M_unq| (sibling groups run W8A16)";
      c.y_label = "calibration perplexity";
      c.log_y = false;
      c.integer_x_ticks = true;
      calib::ChartSeries s;
      s.name = "evaluated points";
      for (auto const& p : r.search->curve) {
        s.x.push_back(p.excluded);
        s.y.push_back(p.ppl);
      }
      c.series.push_back(s);
      c.hlines.push_back({"target (1% over all-W8A16)", "#d62728", r.search->target_ppl});
      calib::write_text_file(out / ("fig4_alpha_search_" + sc.slug + ".svg"), calib::render_svg(c));
    }
  }
  double const secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report["seconds"] = secs;
  calib::write_text_file(out / "report.json", report.dump(2) + "\n");
  calib::write_text_file(out / "table.md", md.str());
  std::printf(
      "wrote %s/report.json, table.md and SVG plots (%.1f s)\n", out.string().c_str(), secs);
  return 0;
}

}  // namespace spikequant_tool
