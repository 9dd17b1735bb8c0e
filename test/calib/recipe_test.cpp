// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Recipe JSON round trip, validation errors, and the vLLM / llm-compressor export.
#include "spikequant/calib/recipe.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <string>
#include <vector>

using namespace spikequant;
using namespace spikequant::calib;

namespace {
Recipe sample() {
  Recipe r;
  r.model_path = "stories260K.bin";
  r.model_hash = "fnv1a64:0123456789abcdef";
  r.scheme = ActScheme::kStatic;
  r.bmm = ActScheme::kPerTensor;
  r.alpha = 6.68;
  r.excluded = {{1, ModuleKind::kDown, -1}, {0, ModuleKind::kGate, -1}, {0, ModuleKind::kUp, -1}};
  r.prefix_ids = {1, 20, 13};
  r.prefix_text = " the.";
  r.static_scales = {{{0, ModuleKind::kQ, -1}, 0.0125f}, {{4, ModuleKind::kDown, -1}, 3.5f}};
  Smoothing s;
  s.alpha = 0.8f;
  s.layers = {{{1.0f, 2.0f}, {}}, {{}, {0.5f, 0.25f}}};
  r.smoothing = s;
  r.plant_spikes = PlantSpikesOptions{1000.0f, 29889, 1, {0, 1}};
  return r;
}
}  // namespace

TEST_CASE("recipe: write + read back gives the same recipe") {
  auto const r = sample();
  auto const path = std::filesystem::temp_directory_path() / "spikequant_recipe_test.json";
  write_recipe(r, path);
  auto const back = read_recipe(path);
  CHECK(back == r);
  std::filesystem::remove(path);
  auto j = to_json(r);
  CHECK(j["qfem"]["excluded"][0] == "model.layers.0.mlp.gate_proj");
  CHECK(j["qfem"]["excluded"][2] == "model.layers.1.mlp.down_proj");
  CHECK(j["scheme"] == "w8a8-static");
  CHECK(j["bmm"] == "per-tensor");
  // without the optional parts
  Recipe minimal;
  minimal.model_path = "m";
  minimal.model_hash = "h";
  CHECK(recipe_from_json(to_json(minimal)) == minimal);
  CHECK(to_json(minimal)["bmm"] == "off");
  minimal.bmm = ActScheme::kPerToken;
  CHECK(recipe_from_json(to_json(minimal)) == minimal);
}

TEST_CASE("recipe: bmm is optional (older recipes have none) and validated") {
  auto j = to_json(sample());
  j.erase("bmm");
  CHECK_FALSE(recipe_from_json(j).bmm.has_value());
  j["bmm"] = nullptr;
  CHECK_FALSE(recipe_from_json(j).bmm.has_value());
  j["bmm"] = "off";
  CHECK_FALSE(recipe_from_json(j).bmm.has_value());
  j["bmm"] = "per-token";
  CHECK(recipe_from_json(j).bmm == ActScheme::kPerToken);
  for (auto const& bad : {nlohmann::json("static"), nlohmann::json("tensor"), nlohmann::json(1)}) {
    j["bmm"] = bad;
    try {
      (void)recipe_from_json(j);
      FAIL("accepted bmm " << bad.dump());
    } catch (Error const& e) {
      CHECK(e.kind() == ErrorKind::kFormat);
      CHECK_MESSAGE(
          std::string(e.what()).find("recipe: bmm must be") != std::string::npos, e.what());
    }
  }
}

TEST_CASE("recipe: malformed input is rejected with a format error naming the key") {
  auto const good = to_json(sample());
  auto expect_format_error = [](nlohmann::json const& j, std::string const& needle) {
    try {
      (void)recipe_from_json(j);
      FAIL("accepted a malformed recipe: " << j.dump());
    } catch (Error const& e) {
      CHECK(e.kind() == ErrorKind::kFormat);
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  auto j = good;
  j.erase("scheme");
  expect_format_error(j, "scheme");
  j = good;
  j["scheme"] = "w4a4";
  expect_format_error(j, "w4a4");
  j = good;
  j["version"] = 7;
  expect_format_error(j, "version");
  j = good;
  j["qfem"]["excluded"].push_back("model.layers.x.mlp.down_proj");
  expect_format_error(j, "not a module name");
  j = good;
  j["static_scales"]["model.layers.0.self_attn.q_proj"] = -1.0;
  expect_format_error(j, "static_scales");
  j = good;
  j["qfep"]["prefix_ids"] = nlohmann::json::array({1, -4});
  expect_format_error(j, "prefix_ids");
  j = good;
  j["smoothquant"]["layers"][1]["layer"] = 5;
  expect_format_error(j, "layer");
  j = good;
  j["smoothquant"]["layers"][0]["attn"] = nlohmann::json::array({1.0, 0.0});
  expect_format_error(j, "attn");
  j = good;
  j["plant_spikes"]["factor"] = 0.0;
  expect_format_error(j, "plant_spikes.factor");
  j = good;
  j["plant_spikes"]["layers"] = nlohmann::json::array({0, -1});
  expect_format_error(j, "plant_spikes.layers");
  expect_format_error(nlohmann::json::array(), "object");
  auto const bad = std::filesystem::temp_directory_path() / "spikequant_recipe_bad.json";
  { std::ofstream(bad) << "{ not json"; }
  CHECK_THROWS_AS(read_recipe(bad), Error);
  std::filesystem::remove(bad);
}

TEST_CASE("recipe: export as ignore list and compressed-tensors quantization_config") {
  auto const r = sample();
  auto ig = export_ignore_list(r);
  REQUIRE(ig["ignore"].size() == 4);
  CHECK(ig["ignore"][0] == "lm_head");
  CHECK(ig["ignore"][3] == "model.layers.1.mlp.down_proj");
  auto qc = export_quantization_config(r)["quantization_config"];
  CHECK(qc["quant_method"] == "compressed-tensors");
  CHECK(qc["ignore"] == ig["ignore"]);
  auto acts = qc["config_groups"]["group_0"]["input_activations"];
  CHECK(acts["strategy"] == "tensor");
  CHECK(acts["dynamic"] == false);
  CHECK(qc["config_groups"]["group_0"]["weights"]["strategy"] == "channel");
  Recipe r1 = r;
  r1.scheme = ActScheme::kPerToken;
  auto a1 = export_quantization_config(
      r1)["quantization_config"]["config_groups"]["group_0"]["input_activations"];
  CHECK(a1["strategy"] == "token");
  CHECK(a1["dynamic"] == true);
}

TEST_CASE("file_hash is stable and content-sensitive") {
  auto const p = std::filesystem::temp_directory_path() / "spikequant_hash_test.bin";
  { std::ofstream(p, std::ios::binary) << "a"; }
  // FNV-1a 64 of "a" is af63dc4c8601ec8c (published test vector).
  CHECK(file_hash(p) == "fnv1a64:af63dc4c8601ec8c");
  std::filesystem::remove(p);
}

TEST_CASE("check_recipe_fits: module names, smoothing lengths, token ids against a model") {
  // A 2-layer model of dim 2 with vocab 32000, modules q k v o gate up down per layer.
  std::vector<ModuleId> mods;
  for (int l = 0; l < 2; ++l) {
    for (ModuleKind k :
         {ModuleKind::kQ,
          ModuleKind::kK,
          ModuleKind::kV,
          ModuleKind::kO,
          ModuleKind::kGate,
          ModuleKind::kUp,
          ModuleKind::kDown}) {
      mods.push_back({l, k, -1});
    }
  }
  auto r = sample();
  r.static_scales.erase(ModuleId{4, ModuleKind::kDown, -1});  // sample() has 5 layers there
  CHECK_NOTHROW(check_recipe_fits(r, mods, 2, 2, 32000));
  auto expect = [&](Recipe const& bad, std::int64_t dim, int vocab, std::string const& needle) {
    try {
      check_recipe_fits(bad, mods, 2, dim, vocab);
      FAIL("accepted a recipe that does not fit");
    } catch (Error const& e) {
      CHECK(e.kind() == ErrorKind::kFormat);
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  auto bad = r;
  bad.excluded.insert({5, ModuleKind::kDown, -1});
  expect(bad, 2, 32000, "model.layers.5.mlp.down_proj");
  bad = r;
  bad.static_scales[{0, ModuleKind::kDown, 3}] = 1.0f;  // an expert the model lacks
  expect(bad, 2, 32000, "static_scales");
  expect(r, 3, 32000, "smoothquant.layers[0].attn has 2 factors");
  bad = r;
  bad.smoothing->layers.pop_back();
  expect(bad, 2, 32000, "smoothquant.layers has 1");
  expect(r, 2, 512, "vocabulary");
  bad = r;
  bad.plant_spikes->layers = {0, 2};
  expect(bad, 2, 32000, "plant_spikes.layers");
}
