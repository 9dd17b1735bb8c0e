// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file spikequant's W8A8 forward (int8 codes, int32 GEMM, dequantizing epilogue) against an
//! independent implementation: PyTorch fake quantization, written as the paper's reference
//! code does it (scripts/torch_reference.py), on every tiny Hugging Face fixture.
//! quant_logits.json holds its logits for per-token, per-tensor, static (scales stored in the
//! file) and per-tensor with QFeM exclusions (W8A16), written by make_quant_fixtures.py.
//!
//! Tolerance: the two sides produce the same codes but sum the products differently (exact
//! int32, then one scale multiply, against float fake-quantized products), so the logits
//! differ by float rounding only: about 1e-6 here, checked against the fp32 budget of 1e-4.
//! The quantization effect itself is about 0.1 on these models (max |W8A8 - fp32|), which the
//! test also asserts, so a quantizer that silently did nothing fails.
//! Where the float paths of two implementations differ by an ulp, a value lying within an
//! ulp of a .5 boundary rounds to a different code, and that one-step change spreads through
//! later layers (docs/comparison.md traces one on stories260K). These fixtures have no such
//! value; a failure of about 1e-2 after a compiler or platform change would be that.
#include "common/data.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

namespace {

constexpr float kTolerance = 1e-4f;
constexpr float kMinQuantEffect = 2e-2f;

//! "0.down" (the script's module key) -> ModuleId.
ModuleId parse_key(std::string const& key) {
  auto const dot = key.find('.');
  REQUIRE(dot != std::string::npos);
  return ModuleId{std::stoi(key.substr(0, dot)), parse_module_kind(key.substr(dot + 1))};
}

ActScheme parse_act(std::string const& act) {
  if (act == "per-token") {
    return ActScheme::kPerToken;
  }
  if (act == "per-tensor") {
    return ActScheme::kPerTensor;
  }
  REQUIRE(act == "static");
  return ActScheme::kStatic;
}

QuantPlan plan_of(nlohmann::json const& c) {
  QuantPlan plan = QuantPlan::w8a8(parse_act(c.at("act").get<std::string>()));
  for (auto const& key : c.at("exclude")) {
    plan.set_mode(parse_key(key.get<std::string>()), LinearMode::kW8A16);
  }
  if (c.contains("static_scales")) {
    for (auto const& [key, scale] : c.at("static_scales").items()) {
      plan.set_static_scale(parse_key(key), scale.get<float>());
    }
  }
  return plan;
}

float max_abs_diff(std::vector<float> const& a, std::vector<float> const& b) {
  REQUIRE(a.size() == b.size());
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

}  // namespace

TEST_CASE(
    "W8A8 logits match PyTorch fake quantization (paper reference quantizer) on the HF fixtures") {
  auto const root = spikequant_test::source_path("test/fixtures/hf");
  int checked = 0;
  for (std::string const name : {"llama", "mistral", "gemma", "mistral_swa"}) {
    auto const dir = root / name;
    CAPTURE(name);
    REQUIRE_MESSAGE(
        std::filesystem::exists(dir / "quant_logits.json"),
        "missing ",
        (dir / "quant_logits.json").string(),
        ": run scripts/make_quant_fixtures.py");
    nlohmann::json const ref = nlohmann::json::parse(std::ifstream(dir / "quant_logits.json"));
    auto const tokens = ref.at("tokens").get<std::vector<int>>();
    Model const model(io::load_hf(dir));
    auto const n = static_cast<int>(tokens.size());

    KVCache float_cache = model.make_cache(n);
    auto const float_logits = model.forward_all(tokens, float_cache);

    for (auto const& c : ref.at("cases")) {
      auto const case_name = c.at("name").get<std::string>();
      CAPTURE(case_name);
      QuantPlan const plan = plan_of(c);
      ForwardOptions options;
      options.plan = &plan;
      KVCache cache = model.make_cache(n);
      auto const got = model.forward_all(tokens, cache, options);
      auto const want = c.at("logits").get<std::vector<float>>();

      float const vs_torch = max_abs_diff(got, want);
      float const vs_float = max_abs_diff(got, float_logits);
      MESSAGE(
          name,
          " ",
          case_name,
          ": max |ours - torch| = ",
          vs_torch,
          ", max |ours - fp32| = ",
          vs_float);
      CHECK(vs_torch < kTolerance);
      CHECK(vs_float > kMinQuantEffect);
      ++checked;
    }
  }
  CHECK(checked == 16);
}
