// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The calibration subcommands of the `spikequant` binary, run as a user runs them on
//! stories260K (small sizes, seq-len 64): calibrate --json/--plots/--recipe, eval with
//! --plant-spikes/--qfem/--qfep, the recipe round trip (eval --write-recipe, then eval
//! --recipe without --calib gives the same perplexity), malformed recipes, and report.
#include "tools/cli_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace spikequant_test::cli;

namespace {

// Runs `args` (which must succeed) and parses its stdout as one JSON object.
json run_json(std::string const& args) {
  auto const r = run(args);
  INFO("spikequant " << args << "\nstderr: " << r.err);
  REQUIRE(r.rc == 0);
  return json::parse(r.out);
}

std::string text() {
  return q(spikequant_test::data_dir() / "text" / "tinystories_val.txt");
}

// Evaluation and calibration on the TinyStories slice, kept small.
std::string eval_args() {
  return "eval --text " + text() + " --max-tokens 1024 --seq-len 64 --json";
}
std::string calib_args() {
  return " --calib " + text() + " --calib-samples 8";
}

std::set<std::string> names(json const& a) {
  std::set<std::string> s;
  for (auto const& e : a) {
    s.insert(e.get<std::string>());
  }
  return s;
}

std::set<std::string> const kPlanted = {
    "model.layers.0.mlp.down_proj", "model.layers.4.mlp.down_proj"};

bool is_svg(std::string const& s) {
  return (s.rfind("<svg", 0) == 0 || s.rfind("<?xml", 0) == 0) &&
         s.find("<svg") != std::string::npos && s.find("</svg>") != std::string::npos;
}

}  // namespace

TEST_CASE("calibrate --json and --plots: r(m) per module, planted spikes show at L0 and L4 down") {
  fs::path const plain = temp_dir() / "calib_plain.json";
  fs::path const planted = temp_dir() / "calib_planted.json";
  fs::path const plots = temp_dir() / "plots";
  auto const a = run("calibrate" + calib_args() + " --seq-len 64 --json " + q(plain));
  REQUIRE(a.rc == 0);
  auto const b =
      run("calibrate" + calib_args() + " --seq-len 64 --plant-spikes 1000 --json " + q(planted) +
          " --plots " + q(plots));
  REQUIRE(b.rc == 0);

  for (fs::path const& p : {plain, planted}) {
    auto const j = json::parse(slurp(p));
    auto const& mods = j.at("modules");
    REQUIRE(mods.is_array());
    CHECK(mods.size() == 20);  // 5 layers x {q, o, up, down}
    std::set<std::string> kinds;
    for (auto const& m : mods) {
      kinds.insert(m.at("kind").get<std::string>());
      CHECK(m.at("layer").get<int>() >= 0);
      CHECK(m.at("layer").get<int>() < 5);
      CHECK(m.at("max").get<double>() > 0.0);
      CHECK(m.at("median").get<double>() > 0.0);
      CHECK(m.at("median").get<double>() <= m.at("max").get<double>());
      CHECK(m.at("ratio").get<double>() >= 1.0);
      bool const spiked =
          p == planted && m.at("kind") == "down" && (m.at("layer") == 0 || m.at("layer") == 4);
      CAPTURE(m.dump());
      if (spiked) {
        CHECK(m.at("ratio").get<double>() > 100.0);
      } else {
        CHECK(m.at("ratio").get<double>() < 20.0);
      }
    }
    CHECK(kinds == std::set<std::string>{"q", "o", "up", "down"});
  }
  for (char const* f : {"fig1_layer_max.svg", "fig2_token_scales.svg"}) {
    CAPTURE(f);
    REQUIRE(fs::exists(plots / f));
    CHECK(is_svg(slurp(plots / f)));
  }
}

TEST_CASE("eval --plant-spikes 1000 w8a8-per-tensor: QFeM excludes the planted modules, QFeP "
          "finds a prefix, both recover the perplexity") {
  std::string const base =
      eval_args() + calib_args() + " --scheme w8a8-per-tensor --plant-spikes 1000";
  auto const off = run_json(base + " --qfem off --qfep off");
  double const off_ppl = off.at("ppl").get<double>();
  CHECK(names(off.at("plant_spikes").at("modules")) == kPlanted);
  CHECK_FALSE(off.contains("prefix"));

  // QFeM alone: exactly the planted groups run W8A16.
  auto const qfem = run_json(base + " --qfem auto --qfep off");
  CHECK(names(qfem.at("excluded_modules")) == kPlanted);
  CHECK(qfem.at("excluded_groups") == 2);
  CHECK(qfem.at("qfem_alpha").get<double>() > 1.0);  // r(m) of the planted ones is > 100
  CHECK(qfem.at("ppl").get<double>() < 0.5 * off_ppl);

  // Both: the prefix takes the spikes; whatever QFeM still excludes is planted.
  auto const both = run_json(base + " --qfem auto --qfep auto");
  REQUIRE(both.at("prefix").is_array());
  CHECK(both.at("prefix").size() == 3);
  CHECK(both.at("prefix").at(0) == 1);  // BOS first
  CHECK(both.at("prefix_text").is_string());
  double const fpp = both.at("float_ppl_with_prefix").get<double>();
  CHECK(fpp > 1.0);
  auto const ex = names(both.at("excluded_modules"));
  CHECK(std::includes(kPlanted.begin(), kPlanted.end(), ex.begin(), ex.end()));
  double const ppl = both.at("ppl").get<double>();
  CHECK(ppl < 0.5 * off_ppl);
  CHECK(ppl < 1.1 * fpp);
}

TEST_CASE("recipe round trip: eval --recipe without --calib reproduces the perplexity") {
  SUBCASE("w8a8-static, planted spikes, QFeM and QFeP searched") {
    fs::path const recipe = temp_dir() / "static.recipe.json";
    auto const w = run_json(
        eval_args() + calib_args() +
        " --scheme w8a8-static --plant-spikes 1000 --qfem auto --qfep auto --write-recipe " +
        q(recipe));
    auto const r = json::parse(slurp(recipe));
    CHECK(r.at("scheme") == "w8a8-static");
    CHECK(r.at("static_scales").size() == 35);  // 5 layers x 7 linear modules
    CHECK(r.at("qfep").at("prefix_ids") == w.at("prefix"));
    CHECK(r.at("qfep").at("prefix_text") == w.at("prefix_text"));
    CHECK(names(r.at("qfem").at("excluded")) == names(w.at("excluded_modules")));
    CHECK(r.at("qfem").at("alpha") == w.at("qfem_alpha"));
    CHECK(r.at("plant_spikes").at("factor") == 1000.0);
    CHECK(r.at("plant_spikes").at("layers") == json::array({0, 4}));

    // No --calib, no --scheme, no --plant-spikes: everything comes from the recipe.
    auto const back = run_json(eval_args() + " --recipe " + q(recipe));
    CHECK(back.at("scheme") == "w8a8-static");
    CHECK(back.at("static_scales") == "recipe");
    CHECK(back.at("ppl").dump() == w.at("ppl").dump());
    CHECK(back.at("nll").dump() == w.at("nll").dump());
    CHECK(back.at("prefix") == w.at("prefix"));
    CHECK(back.at("float_ppl_with_prefix") == w.at("float_ppl_with_prefix"));
    CHECK(back.at("excluded_modules") == w.at("excluded_modules"));
    // Same with the scheme named explicitly, and writing the recipe again gives the same file.
    fs::path const again = temp_dir() / "static.again.json";
    auto const b2 = run_json(
        eval_args() + " --scheme w8a8-static --recipe " + q(recipe) + " --write-recipe " +
        q(again));
    CHECK(b2.at("ppl").dump() == w.at("ppl").dump());
    CHECK(json::parse(slurp(again)) == r);
  }
  SUBCASE("w8a8-static with SmoothQuant and a fixed alpha") {
    fs::path const recipe = temp_dir() / "smooth.recipe.json";
    auto const w = run_json(
        eval_args() + calib_args() +
        " --scheme w8a8-static --smoothquant 0.8 --qfem 5 --qfep auto --write-recipe " + q(recipe));
    auto const r = json::parse(slurp(recipe));
    REQUIRE(r.at("smoothquant").is_object());
    CHECK(r.at("smoothquant").at("layers").size() == 5);
    CHECK(r.at("smoothquant").at("layers").at(0).at("attn").size() == 64);
    CHECK(r.at("qfem").at("alpha") == 5.0);
    CHECK(r.at("plant_spikes").is_null());
    auto const back = run_json(eval_args() + " --recipe " + q(recipe));
    CHECK(back.at("ppl").dump() == w.at("ppl").dump());
  }
  SUBCASE("w8a8-per-tensor: no static scales recorded") {
    fs::path const recipe = temp_dir() / "tensor.recipe.json";
    auto const w = run_json(
        eval_args() + calib_args() +
        " --scheme w8a8-per-tensor --plant-spikes 1000 --qfem auto --write-recipe " + q(recipe));
    auto const r = json::parse(slurp(recipe));
    CHECK(r.at("scheme") == "w8a8-per-tensor");
    CHECK(r.at("static_scales").empty());
    CHECK(r.at("qfep").is_null());
    auto const back = run_json(eval_args() + " --recipe " + q(recipe));
    CHECK(back.at("scheme") == "w8a8-per-tensor");
    CHECK(back.at("ppl").dump() == w.at("ppl").dump());
  }
  SUBCASE("--bmm per-tensor is recorded and read back; older recipes without it mean off") {
    fs::path const recipe = temp_dir() / "bmm.recipe.json";
    auto const w = run_json(
        eval_args() + " --scheme w8a8-per-tensor --bmm per-tensor --write-recipe " + q(recipe));
    CHECK(w.at("bmm") == "per-tensor");
    auto r = json::parse(slurp(recipe));
    CHECK(r.at("bmm") == "per-tensor");
    auto const back = run_json(eval_args() + " --recipe " + q(recipe));
    CHECK(back.at("bmm") == "per-tensor");
    CHECK(back.at("ppl").dump() == w.at("ppl").dump());
    // --bmm given on the command line replaces the recipe's.
    auto const plain = run_json(eval_args() + " --scheme w8a8-per-tensor");
    auto const forced_off = run_json(eval_args() + " --recipe " + q(recipe) + " --bmm off");
    CHECK(forced_off.at("bmm") == "off");
    CHECK(forced_off.at("ppl").dump() == plain.at("ppl").dump());
    CHECK(plain.at("ppl").dump() != w.at("ppl").dump());
    // A recipe written before the field existed reads as off.
    r.erase("bmm");
    fs::path const old = temp_dir() / "old.recipe.json";
    std::ofstream(old) << r.dump();
    auto const from_old = run_json(eval_args() + " --recipe " + q(old));
    CHECK(from_old.at("bmm") == "off");
    CHECK(from_old.at("ppl").dump() == plain.at("ppl").dump());
  }
  SUBCASE("calibrate --recipe gives eval's static calibration") {
    fs::path const recipe = temp_dir() / "calibrate.recipe.json";
    REQUIRE(
        run("calibrate" + calib_args() + " --seq-len 64 --plant-spikes 1000 --recipe " + q(recipe))
            .rc == 0);
    auto const direct =
        run_json(eval_args() + calib_args() + " --scheme w8a8-static --plant-spikes 1000");
    auto const back = run_json(eval_args() + " --recipe " + q(recipe));
    CHECK(back.at("scheme") == "w8a8-static");
    CHECK(back.at("ppl").dump() == direct.at("ppl").dump());
  }
}

TEST_CASE(
    "mixtral (HF fixture): calibrate per expert, eval static + QFeM + QFeP, recipe round trip") {
  fs::path const model = spikequant_test::source_path("test/fixtures/hf/mixtral");
  // Token files (no tokenizer beside the fixture): ids in [3, 64), no BOS.
  fs::path const calib = temp_dir() / "moe_calib.txt";
  fs::path const eval = temp_dir() / "moe_eval.txt";
  for (auto const& [path, seed] : {std::pair{calib, 1u}, std::pair{eval, 2u}}) {
    std::ofstream out(path);
    unsigned x = seed;
    for (int i = 0; i < 120; ++i) {
      x = x * 1103515245u + 12345u;
      out << 3 + (x >> 16) % 61 << (i % 20 == 19 ? "\n" : " ");
    }
  }
  std::string const m = " --model " + q(model);
  fs::path const stats = temp_dir() / "moe_stats.json";
  auto const c = run(
      "calibrate" + m + " --calib-tokens " + q(calib) + " --seq-len 16 --calib-samples 6 --json " +
      q(stats) + " --plots " + q(temp_dir() / "moe_plots"));
  INFO(c.err);
  REQUIRE(c.rc == 0);
  CHECK(c.out.find("e3.down") != std::string::npos);  // the table names experts
  auto const j = json::parse(slurp(stats));
  std::set<std::string> names_seen;
  for (auto const& mod : j.at("modules")) {
    auto const name = mod.at("name").get<std::string>();
    names_seen.insert(name);
    bool const expert = name.find(".block_sparse_moe.experts.") != std::string::npos;
    CHECK(expert == !mod.at("expert").is_null());
    CHECK(mod.at("windows").get<int>() >= 1);
    CHECK(mod.at("windows").get<int>() <= 6);
    CHECK(mod.at("ratio").get<double>() >= 1.0);
  }
  CHECK(names_seen.contains("model.layers.1.block_sparse_moe.experts.2.w2"));
  CHECK(names_seen.contains("model.layers.0.self_attn.q_proj"));
  CHECK_FALSE(names_seen.contains("model.layers.0.mlp.down_proj"));

  std::string const ev = "eval" + m + " --tokens " + q(eval) + " --seq-len 16 --json";
  std::string const cal = " --calib-tokens " + q(calib) + " --calib-samples 6";
  double const fp = run_json(ev).at("ppl").get<double>();
  fs::path const recipe = temp_dir() / "moe.recipe.json";
  auto const w = run_json(
      ev + cal + " --scheme w8a8-static --qfem auto --qfep auto --write-recipe " + q(recipe));
  double const ppl = w.at("ppl").get<double>();
  CHECK(std::isfinite(ppl));
  CHECK(ppl > 0.5 * fp);
  CHECK(ppl < 2.0 * fp);
  CHECK(w.at("total_groups") == 2 * (2 + 2 * 4));  // q, o and each expert's {gate,up}, down
  auto const r = json::parse(slurp(recipe));
  CHECK(r.at("static_scales").size() == 2 * (4 + 3 * 4));  // every module, experts included
  CHECK(r.at("static_scales").contains("model.layers.0.block_sparse_moe.experts.3.w1"));
  auto const back =
      run_json("eval" + m + " --tokens " + q(eval) + " --seq-len 16 --json --recipe " + q(recipe));
  CHECK(back.at("static_scales") == "recipe");
  CHECK(back.at("ppl").dump() == w.at("ppl").dump());
  // calibrate --recipe writes the same static scales eval calibrates.
  fs::path const crecipe = temp_dir() / "moe.calibrate.recipe.json";
  REQUIRE(
      run("calibrate" + m + " --calib-tokens " + q(calib) +
          " --seq-len 16 --calib-samples 6 --recipe " + q(crecipe))
          .rc == 0);
  auto const direct = run_json(ev + cal + " --scheme w8a8-static");
  auto const via =
      run_json("eval" + m + " --tokens " + q(eval) + " --seq-len 16 --json --recipe " + q(crecipe));
  CHECK(via.at("ppl").dump() == direct.at("ppl").dump());
}

TEST_CASE("eval --recipe: malformed or mismatched recipes are one-line errors") {
  // Written once per process (doctest reruns this body for every subcase).
  static json const r = [] {
    fs::path const good = temp_dir() / "good.recipe.json";
    (void)run_json(
        eval_args() + calib_args() + " --scheme w8a8-static --smoothquant 0.5 --write-recipe " +
        q(good));
    return json::parse(slurp(good));
  }();
  auto try_recipe = [&](std::string const& name, std::string const& content) {
    fs::path const p = temp_dir() / name;
    std::ofstream(p) << content;
    return run(eval_args() + " --recipe " + q(p));
  };
  SUBCASE("module name not in the model") {
    json j = r;
    j["qfem"]["excluded"].push_back("model.layers.9.mlp.down_proj");
    check_one_line_error(try_recipe("mod.json", j.dump()), 1, "model.layers.9.mlp.down_proj");
  }
  SUBCASE("static scale for a module not in the model") {
    json j = r;
    j["static_scales"]["model.layers.7.self_attn.q_proj"] = 0.5;
    check_one_line_error(try_recipe("scale_mod.json", j.dump()), 1, "model.layers.7");
  }
  SUBCASE("not a module name") {
    json j = r;
    j["qfem"]["excluded"].push_back("lm_head.weight");
    check_one_line_error(try_recipe("name.json", j.dump()), 1, "lm_head.weight");
  }
  SUBCASE("smoothing factors of the wrong length") {
    json j = r;
    j["smoothquant"]["layers"][1]["attn"] = json::array({1.0, 2.0, 3.0});
    check_one_line_error(try_recipe("smooth_len.json", j.dump()), 1, "smoothquant");
  }
  SUBCASE("smoothing for the wrong number of layers") {
    json j = r;
    j["smoothquant"]["layers"].erase(4);
    check_one_line_error(try_recipe("smooth_layers.json", j.dump()), 1, "smoothquant");
  }
  SUBCASE("static scales non-positive or non-finite") {
    json j = r;
    j["static_scales"]["model.layers.0.self_attn.q_proj"] = -1.0;
    check_one_line_error(try_recipe("neg.json", j.dump()), 1, "static_scales");
    j["static_scales"]["model.layers.0.self_attn.q_proj"] = 0.0;
    check_one_line_error(try_recipe("zero.json", j.dump()), 1, "static_scales");
    j["static_scales"]["model.layers.0.self_attn.q_proj"] = 1e300;  // inf as a float
    check_one_line_error(try_recipe("inf.json", j.dump()), 1, "static_scales");
    std::string s = r.dump();
    auto const at = s.find("\"model.layers.0.self_attn.q_proj\":");
    REQUIRE(at != std::string::npos);
    s.insert(at, "\"model.layers.0.self_attn.k_proj\":NaN,");
    check_one_line_error(try_recipe("nan.json", s), 1, "recipe");
  }
  SUBCASE("a static module without a scale") {
    json j = r;
    j["static_scales"].erase("model.layers.3.mlp.down_proj");
    check_one_line_error(try_recipe("missing.json", j.dump()), 1, "model.layers.3.mlp.down_proj");
  }
  SUBCASE("not JSON, wrong format, missing file") {
    check_one_line_error(try_recipe("trunc.json", r.dump().substr(0, 80)), 1, "trunc.json");
    json j = r;
    j["format"] = "something-else";
    check_one_line_error(try_recipe("format.json", j.dump()), 1, "format");
    check_one_line_error(
        run(eval_args() + " --recipe /nonexistent/recipe.json"), 1, "/nonexistent/recipe.json");
  }
  SUBCASE("bmm not off, per-tensor or per-token") {
    json j = r;
    j["bmm"] = "static";
    check_one_line_error(try_recipe("bmm.json", j.dump()), 1, "recipe: bmm must be");
    j["bmm"] = 3;
    check_one_line_error(try_recipe("bmm_num.json", j.dump()), 1, "recipe: bmm must be");
  }
  SUBCASE("w8a8-static without --calib and without a recipe") {
    check_one_line_error(run(eval_args() + " --scheme w8a8-static"), 2, "--calib");
  }
}

// Suite "slow" becomes the CTest label `slow`: about 7 s in Release, 99 s under ASan+UBSan, so
// the sanitizer pass of scripts/test.sh skips it (the Release pass runs it).
TEST_CASE(
    "report with small sizes writes report.json with the table rows" *
    doctest::test_suite("slow")) {
  fs::path const out = temp_dir() / "report";
  auto const r = run("report --calib-tokens 512 --eval-tokens 1024 --seq-len 64 --out " + q(out));
  INFO(r.err);
  REQUIRE(r.rc == 0);
  REQUIRE(fs::exists(out / "report.json"));
  CHECK(fs::exists(out / "table.md"));
  auto const j = json::parse(slurp(out / "report.json"));
  CHECK(j.at("seq_len") == 64);
  CHECK(j.at("calib_tokens") == 512);
  CHECK(j.at("eval_tokens") == 1024);
  auto const& sc = j.at("scenarios");
  REQUIRE(sc.size() == 2);
  for (auto const& s : sc) {
    CAPTURE(s.at("slug"));
    CHECK(s.at("float_ppl").get<double>() > 1.0);
    auto const& rows = s.at("rows");
    REQUIRE(rows.size() == 18);  // {AQ1, AQ2, AQ3} x {W8A8, +QFeM, +QFeP, +both, SQ, SQ+both}
    std::set<std::pair<std::string, std::string>> cells;
    std::map<std::pair<std::string, std::string>, double> ppl;
    for (auto const& row : rows) {
      auto const method = row.at("method").get<std::string>();
      std::pair<std::string, std::string> const cell{row.at("scheme").get<std::string>(), method};
      cells.insert(cell);
      ppl[cell] = row.at("ppl").get<double>();
      CHECK(row.contains("smoothquant") == method.starts_with("SQ"));
      CHECK(row.at("ppl").get<double>() > 1.0);
      CHECK(row.at("total_groups") == 20);
    }
    CHECK(cells.size() == 18);
    CHECK(cells.count({"AQ2", "SQ"}) == 1);
    CHECK(cells.count({"AQ2", "SQ+both"}) == 1);
    // Smoothing changes the quantized model (a row that ignored it would equal W8A8).
    CHECK(ppl[{"AQ2", "SQ"}] != ppl[{"AQ2", "W8A8"}]);
  }
  for (auto const& e : fs::directory_iterator(out)) {
    if (e.path().extension() == ".svg") {
      CAPTURE(e.path());
      CHECK(is_svg(slurp(e.path())));
    }
  }
}
