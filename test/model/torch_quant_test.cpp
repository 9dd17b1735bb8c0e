// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file spikequant's W8A8 forward (int8 codes, int32 GEMM, dequantizing epilogue) against an
//! independent implementation: PyTorch fake quantization, written as the paper's reference
//! code does it (scripts/torch_reference.py), on every tiny Hugging Face fixture, Mixtral's
//! experts included (each expert's w1 / w3 / w2 quantized over the rows routed to it, the
//! router float).
//! quant_logits.json holds its logits for per-token, per-tensor, static (scales stored in the
//! file), per-tensor with QFeM exclusions (W8A16) and per-tensor with BMM quantization (the
//! q/k/v outputs fake-quantized per tensor, QuantPlan::bmm), written by make_quant_fixtures.py.
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
#include "common/compare.hpp"
#include "common/data.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace spikequant;
using namespace spikequant::llama;

namespace {

using spikequant_test::max_abs_diff;

constexpr float kTolerance = 1e-4f;
constexpr float kMinQuantEffect = 2e-2f;
constexpr float kMinBmmEffect = 1e-3f;

//! The script's module keys -> ModuleId: "0.down" (layer 0's down), "1.e3.up" (layer 1,
//! expert 3's up = w3).
ModuleId parse_key(std::string const& key) {
  auto const dot = key.find('.');
  REQUIRE(dot != std::string::npos);
  int const layer = std::stoi(key.substr(0, dot));
  std::string rest = key.substr(dot + 1);
  int expert = -1;
  if (rest.starts_with('e')) {
    auto const dot2 = rest.find('.');
    REQUIRE(dot2 != std::string::npos);
    expert = std::stoi(rest.substr(1, dot2 - 1));
    rest = rest.substr(dot2 + 1);
  }
  return ModuleId{layer, parse_module_kind(rest), expert};
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
  if (c.contains("bmm")) {
    plan.set_bmm(parse_bmm(c.at("bmm").get<std::string>()));
  }
  if (c.contains("static_scales")) {
    for (auto const& [key, scale] : c.at("static_scales").items()) {
      plan.set_static_scale(parse_key(key), scale.get<float>());
    }
  }
  return plan;
}

}  // namespace

TEST_CASE(
    "W8A8 logits match PyTorch fake quantization (paper reference quantizer) on the HF fixtures") {
  auto const root = spikequant_test::source_path("test/fixtures/hf");
  int checked = 0;
  int expert_modules = 0;
  int bmm_cases = 0;  // expert keys in the mixtral cases (static scales, exclusions)
  for (std::string const name : {"llama", "mistral", "gemma", "mistral_swa", "mixtral"}) {
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
    std::map<std::string, std::vector<float>> by_case;  // our logits per case name

    for (auto const& c : ref.at("cases")) {
      auto const case_name = c.at("name").get<std::string>();
      CAPTURE(case_name);
      QuantPlan const plan = plan_of(c);
      for (auto const& [id, unused] : plan.overrides()) {
        expert_modules += id.is_expert() ? 1 : 0;
      }
      for (auto const& [id, unused] : plan.static_scales()) {
        expert_modules += id.is_expert() ? 1 : 0;
        CHECK_NOTHROW((void)model.module_shape(id));  // every key names a module of the model
      }
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
      if (c.contains("bmm")) {
        // BMM quantization really does something beyond the plain per-tensor case.
        REQUIRE(by_case.contains("per-tensor"));
        float const vs_plain = max_abs_diff(got, by_case.at("per-tensor"));
        MESSAGE(name, " ", case_name, ": max |bmm - per-tensor| = ", vs_plain);
        CHECK(plan.bmm() == ActScheme::kPerTensor);
        CHECK(vs_plain > kMinBmmEffect);
        ++bmm_cases;
      }
      by_case[case_name] = got;
      ++checked;
    }
  }
  CHECK(checked == 25);
  CHECK(bmm_cases == 5);
  // mixtral: static scales of 2 layers x 4 experts x {gate, up, down}, and the QFeM case's
  // expert exclusions (layer 0 expert 1's down, layer 1 expert 3's gate and up)
  CHECK(expert_modules == 24 + 3);
}

TEST_CASE("mixtral W8A8: an expert's dynamic per-tensor scale spans only its routed rows") {
  auto const dir = spikequant_test::source_path("test/fixtures/hf/mixtral");
  nlohmann::json const ref = nlohmann::json::parse(std::ifstream(dir / "quant_logits.json"));
  auto const tokens = ref.at("tokens").get<std::vector<int>>();
  Model const model(io::load_hf(dir));
  auto const n = static_cast<int>(tokens.size());
  QuantPlan const plan = QuantPlan::w8a8(ActScheme::kPerTensor);
  // Record what each expert module multiplies and returns, then redo its matmul by hand.
  struct Seen {
    std::vector<float> x;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
  };
  std::map<ModuleId, Seen> inputs;
  ForwardOptions options;
  options.plan = &plan;
  options.observer = [&](ModuleId const& id, MatrixRef<float const> x, ForwardContext const& ctx) {
    if (id.is_expert()) {
      CHECK(static_cast<std::int64_t>(ctx.rows.size()) == x.rows);
      auto& s = inputs[id];
      s.rows = x.rows;
      s.cols = x.cols;
      s.x.assign(x.data, x.data + x.rows * x.cols);
    }
  };
  struct Check : ModuleHook {
    std::map<ModuleId, Seen> const* inputs = nullptr;
    Model const* model = nullptr;
    int checked = 0;
    int partial = 0;  // experts that saw fewer rows than the forward has
    int total_rows = 0;
    void after(ModuleId const& id, MatrixRef<float> y, ForwardContext const& ctx) override {
      if (!id.is_expert() || ctx.layer != 1) {
        return;
      }
      auto const& s = inputs->at(id);
      // The same rows, quantized alone with one per-tensor scale: identical output.
      std::vector<float> want(static_cast<std::size_t>(y.rows * y.cols));
      cpu::linear_w8a8(
          {s.x.data(), s.rows, s.cols, s.cols},
          model->quantized_weight(id),
          ActScheme::kPerTensor,
          0.0f,
          {},
          {want.data(), y.rows, y.cols, y.cols});
      for (std::int64_t r = 0; r < y.rows; ++r) {
        for (std::int64_t j = 0; j < y.cols; ++j) {
          REQUIRE(y(r, j) == want[static_cast<std::size_t>(r * y.cols + j)]);
        }
      }
      ++checked;
      partial += s.rows < static_cast<std::int64_t>(ctx.tokens.size()) ? 1 : 0;
      total_rows += id.kind == ModuleKind::kDown ? static_cast<int>(s.rows) : 0;
    }
  } check;
  check.inputs = &inputs;
  check.model = &model;
  options.hook = &check;
  KVCache cache = model.make_cache(n);
  (void)model.forward_all(tokens, cache, options);
  CHECK(check.checked == 4 * 3);  // every expert of layer 1 got tokens (gate, up, down each)
  CHECK(check.partial == 4 * 3);  // and none got all of them
  CHECK(check.total_rows == n * model.config().experts_per_token);  // k experts per token
}
