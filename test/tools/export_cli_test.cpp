// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
// `spikequant export` as a user runs it: the folder, the reference logits, the AQ2 refusal and
// usage errors. The Python round trip (transformers + compressed-tensors + llm-compressor) is
// scripts/check_export_hf.py, registered as the CTest test python_check_export_hf.
#include "tools/cli_runner.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace spikequant_test::cli;

namespace {
fs::path fixture() {
  return spikequant_test::source_path("test/fixtures/hf/llama");
}

fs::path write_recipe(std::string const& name, std::string const& scheme) {
  json r = {
      {"format", "spikequant-recipe"},
      {"version", 1},
      {"model", {{"path", "fixture"}, {"hash", ""}}},
      {"scheme", scheme},
      {"qfem",
       {{"alpha", nullptr},
        {"excluded",
         {"model.layers.0.self_attn.q_proj",
          "model.layers.0.self_attn.k_proj",
          "model.layers.0.self_attn.v_proj"}}}},
      {"qfep", {{"prefix_ids", {1, 5}}, {"prefix_text", "x"}}},
      {"static_scales", json::object()}};
  fs::path const p = temp_dir() / name;
  std::ofstream(p) << r.dump();
  return p;
}
}  // namespace

TEST_CASE("export: AQ1 recipe on the Llama fixture writes the folder and reference logits") {
  fs::path const out = temp_dir() / "aq1";
  fs::path const ref = temp_dir() / "aq1_ref.json";
  auto const r =
      run("export --model " + q(fixture()) + " --recipe " +
          q(write_recipe("aq1.json", "w8a8-per-token")) + " --out " + q(out) +
          " --reference-logits " + q(ref) + " --tokens \"1 5 17 42\"");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("11 INT8 modules") != std::string::npos);  // 14 - q, k, v of layer 0
  CHECK(r.out.find("(vLLM serves it)") != std::string::npos);
  CHECK(r.out.find("not carried (see spikequant_export.json): QFeP prefix") != std::string::npos);
  CHECK(fs::exists(out / "model.safetensors"));
  auto const cfg = json::parse(slurp(out / "config.json"));
  CHECK(
      cfg["quantization_config"]["ignore"] == json(
                                                  {"lm_head",
                                                   "model.layers.0.self_attn.q_proj",
                                                   "model.layers.0.self_attn.k_proj",
                                                   "model.layers.0.self_attn.v_proj"}));
  auto const j = json::parse(slurp(ref));
  CHECK(j["tokens"] == json({1, 5, 17, 42}));
  for (char const* k : {"exported_w8a16", "served_w8a8", "recipe_w8a8", "float"}) {
    CHECK(j[k].size() == 4 * 64);
  }
  // INT8 weights move the logits; the W8A8 plan moves them again.
  CHECK(j["exported_w8a16"] != j["float"]);
  CHECK(j["served_w8a8"] != j["exported_w8a16"]);
}

TEST_CASE("export: AQ2 is refused with the alternatives, usage mistakes exit 2") {
  fs::path const aq2 = write_recipe("aq2.json", "w8a8-per-tensor");
  fs::path const out = temp_dir() / "aq2";
  check_one_line_error(
      run("export --model " + q(fixture()) + " --recipe " + q(aq2) + " --out " + q(out)),
      1,
      "w8a8-per-token (AQ1) or w8a8-static (AQ3");
  CHECK_FALSE(fs::exists(out / "config.json"));
  auto const ok =
      run("export --model " + q(fixture()) + " --recipe " + q(aq2) + " --out " + q(out) +
          " --allow-unservable");
  CHECK(ok.rc == 0);
  CHECK(ok.out.find("NOT servable by vLLM") != std::string::npos);
  CHECK(ok.err.find("warning: writing w8a8-per-tensor") != std::string::npos);
  check_one_line_error(run("export --model " + q(fixture()) + " --recipe " + q(aq2)), 2, "--out");
  fs::path const aq1 = write_recipe("aq1s.json", "w8a8-per-token");
  auto const sharded =
      run("export --model " + q(fixture()) + " --recipe " + q(aq1) + " --out " + q(out / "s") +
          " --max-shard-size 16KB");
  CHECK(sharded.rc == 0);
  CHECK(fs::exists(out / "s" / "model.safetensors.index.json"));  // the fixture is ~30 KB
  check_one_line_error(
      run("export --model " + q(fixture()) + " --recipe " + q(aq1) + " --out " + q(out) +
          " --max-shard-size 5XB"),
      2,
      "--max-shard-size");
  check_one_line_error(
      run("export --model m.gguf --recipe " + q(aq2) + " --out " + q(out)), 1, "GGUF");
  check_one_line_error(
      run("export --model " + q(fixture()) + " --recipe " + q(aq2) + " --out " + q(out) +
          " --tokens \"1 2\""),
      2,
      "--reference-logits");
}
