// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
// The compressed-tensors export: the INT8 codes and scales written are the ones
// Model::quantized_weight computes (bit for bit), the config says what vLLM needs, AQ2 is
// refused, and a float model rebuilt from the files (codes * scales, our own reader) runs the
// logits of spikequant's W8A16 emulation of the export. The outside check (transformers +
// compressed-tensors) is scripts/check_export_hf.py.
#include "common/data.hpp"
#include "io_test_util.hpp"
#include "spikequant/io/compressed_tensors_export.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/io/llama2c.hpp"
#include "spikequant/io/safetensors.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <doctest/doctest.h>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace io = spikequant::io;
namespace llama = spikequant::llama;
namespace calib = spikequant::calib;
using spikequant::ActScheme;
using spikequant::ErrorKind;
using spikequant::ModuleId;
using spikequant::ModuleKind;

namespace {

std::filesystem::path llama_fixture() {
  return spikequant_test::source_path("test/fixtures/hf/llama");
}

nlohmann::json read_json(std::filesystem::path const& p) {
  std::ifstream in(p);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

//! Every tensor of an exported folder, by name, with its file.
struct ExportedFiles {
  std::map<std::string, std::shared_ptr<io::Safetensors>> files;
  std::map<std::string, io::Safetensors const*> where;
  explicit ExportedFiles(std::filesystem::path const& dir) {
    std::vector<std::string> names;
    if (std::filesystem::exists(dir / "model.safetensors.index.json")) {
      std::ifstream in(dir / "model.safetensors.index.json");
      std::stringstream s;
      s << in.rdbuf();
      for (auto const& [t, f] : io::parse_hf_index(s.str())) {
        if (!files.contains(f)) {
          files[f] = std::make_shared<io::Safetensors>(io::Safetensors::open(dir / f));
        }
        where[t] = files[f].get();
      }
    } else {
      files["model.safetensors"] =
          std::make_shared<io::Safetensors>(io::Safetensors::open(dir / "model.safetensors"));
      for (auto const& t : files["model.safetensors"]->tensors()) {
        where[t.name] = files["model.safetensors"].get();
      }
    }
  }
  io::TensorInfo const& info(std::string const& name) const { return where.at(name)->info(name); }
  std::vector<std::int8_t> codes(std::string const& name) const {
    auto const& t = info(name);
    REQUIRE(t.dtype == io::Dtype::kI8);
    auto const raw = where.at(name)->raw(t);
    std::vector<std::int8_t> c(raw.size());
    std::memcpy(c.data(), raw.data(), raw.size());
    return c;
  }
  std::vector<float> floats(std::string const& name) const {
    return where.at(name)->to_float(name);
  }
  //! The model the files describe, in float: INT8 weights become codes * scale (an
  //! independent dequantization: one multiply per element, no library code).
  llama::Weights as_float(std::filesystem::path const& dir) const {
    llama::Weights w;
    std::ifstream in(dir / "config.json");
    std::stringstream s;
    s << in.rdbuf();
    w.config = io::parse_hf_config(s.str());
    auto get = [&](std::string const& name) {
      if (info(name).dtype != io::Dtype::kI8) {
        return floats(name);
      }
      std::string const base = name.substr(0, name.size() - std::string(".weight").size());
      auto const c = codes(name);
      auto const sc = floats(base + ".weight_scale");
      auto const cols = static_cast<std::size_t>(info(name).shape[1]);
      std::vector<float> v(c.size());
      for (std::size_t i = 0; i < c.size(); ++i) {
        v[i] = static_cast<float>(c[i]) * sc[i / cols];
      }
      return v;
    };
    w.embedding = get("model.embed_tokens.weight");
    for (int l = 0; l < w.config.n_layers; ++l) {
      std::string const p = "model.layers." + std::to_string(l) + ".";
      llama::LayerWeights L;
      L.attn_norm = get(p + "input_layernorm.weight");
      L.wq = get(p + "self_attn.q_proj.weight");
      L.wk = get(p + "self_attn.k_proj.weight");
      L.wv = get(p + "self_attn.v_proj.weight");
      L.wo = get(p + "self_attn.o_proj.weight");
      L.ffn_norm = get(p + "post_attention_layernorm.weight");
      L.w_gate = get(p + "mlp.gate_proj.weight");
      L.w_up = get(p + "mlp.up_proj.weight");
      L.w_down = get(p + "mlp.down_proj.weight");
      w.layers.push_back(std::move(L));
    }
    w.final_norm = get("model.norm.weight");
    if (!w.config.tied_embeddings) {
      w.lm_head = get("lm_head.weight");
    }
    return w;
  }
};

calib::Recipe static_recipe(llama::Model const& m) {
  calib::Recipe r;
  r.model_path = "fixture";
  r.model_hash = "";
  r.scheme = ActScheme::kStatic;
  r.excluded = {{1, ModuleKind::kGate, -1}, {1, ModuleKind::kUp, -1}};
  float s = 0.01f;
  for (auto const& id : m.module_ids()) {
    r.static_scales[id] = s;
    s *= 1.25f;
  }
  r.prefix_ids = {1, 5, 17};
  r.prefix_text = "x";
  return r;
}

//! Logits of `tokens` under the plan the export stands for: INT8 modules W8A16, the
//! excluded ones float.
std::vector<float> export_emulation_logits(
    llama::Model const& m, calib::Recipe const& r, std::vector<int> const& tokens) {
  auto plan = llama::QuantPlan::uniform(spikequant::LinearMode::kW8A16);
  for (auto const& id : r.excluded) {
    plan.set_mode(id, spikequant::LinearMode::kFloat);
  }
  auto cache = m.make_cache(static_cast<int>(tokens.size()));
  llama::ForwardOptions fo;
  fo.plan = &plan;
  return m.forward_all(tokens, cache, fo);
}

double max_abs_diff(std::vector<float> const& a, std::vector<float> const& b) {
  REQUIRE(a.size() == b.size());
  double d = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return d;
}

}  // namespace

TEST_CASE("export: Llama fixture, AQ3 static, bit-identical codes, config and sidecar") {
  spikequant_test::TempDir dir("ct_export");
  llama::Model const m(io::load_hf(llama_fixture()));
  auto const r = static_recipe(m);
  io::ExportOptions opt;
  opt.source_dir = llama_fixture();
  opt.max_shard_bytes = 4096;  // the fixture is ~30 KB: several shards
  auto const res = io::export_compressed_tensors(io::load_hf(llama_fixture()), r, opt, dir.path());
  CHECK(res.vllm_servable);
  CHECK(res.quantized.size() == m.module_ids().size() - 2);
  CHECK(
      res.ignored == std::vector<std::string>{
                         "lm_head", "model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj"});
  CHECK(std::filesystem::exists(dir / "model.safetensors.index.json"));
  ExportedFiles const f(dir.path());
  for (auto const& id : m.module_ids()) {
    std::string const name = spikequant::hf_name(id);
    CAPTURE(name);
    if (r.excluded.contains(id)) {
      auto const w = m.weight(id);
      CHECK(f.info(name + ".weight").dtype == io::Dtype::kF32);
      CHECK(f.floats(name + ".weight") == std::vector<float>(w.data, w.data + w.rows * w.cols));
      CHECK_FALSE(f.where.contains(name + ".weight_scale"));
      continue;
    }
    auto const& q = m.quantized_weight(id);
    CHECK(
        f.info(name + ".weight").shape == std::vector<std::int64_t>{q.out_features, q.in_features});
    CHECK(f.codes(name + ".weight") == q.codes);
    CHECK(f.info(name + ".weight_scale").shape == std::vector<std::int64_t>{q.out_features, 1});
    CHECK(f.floats(name + ".weight_scale") == q.scales);
    CHECK(f.floats(name + ".input_scale") == std::vector<float>{r.static_scales.at(id)});
  }
  CHECK(f.floats("lm_head.weight") == m.weights().lm_head);
  CHECK(f.floats("model.norm.weight") == m.weights().final_norm);

  auto const cfg = read_json(dir / "config.json");
  CHECK(cfg["model_type"] == "llama");
  CHECK(cfg["rope_parameters"]["rope_theta"] == 50000.0);  // the source's keys survive
  auto const& qc = cfg["quantization_config"];
  CHECK(qc["quant_method"] == "compressed-tensors");
  CHECK(qc["format"] == "int-quantized");
  CHECK(qc["quantization_status"] == "compressed");
  auto const& g = qc["config_groups"]["group_0"];
  CHECK(g["weights"]["strategy"] == "channel");
  CHECK(g["weights"]["symmetric"] == true);
  CHECK(g["input_activations"]["strategy"] == "tensor");
  CHECK(g["input_activations"]["dynamic"] == false);
  CHECK(qc["ignore"].size() == 3);

  auto const side = read_json(dir / "spikequant_export.json");
  CHECK(side["vllm_servable"] == true);
  CHECK(side["not_carried"]["qfep_prefix"]["prefix_ids"] == std::vector<int>{1, 5, 17});
  CHECK(calib::recipe_from_json(side["recipe"]) == r);

  // The files as a float model give spikequant's W8A16 emulation of the export.
  llama::Model const back(f.as_float(dir.path()));
  std::vector<int> const tokens = {1, 5, 17, 42, 3, 60, 9, 9, 33, 2, 50, 11};
  auto cache = back.make_cache(12);
  auto const got = back.forward_all(tokens, cache);
  auto const want = export_emulation_logits(m, r, tokens);
  CHECK(max_abs_diff(got, want) < 1e-4);  // float reassociation only: (x.c).s vs x.(c.s)
}

TEST_CASE("export: AQ2 is refused unless asked for, AQ1 is dynamic per token") {
  spikequant_test::TempDir dir("ct_export_aq2");
  llama::Model const m(io::load_hf(llama_fixture()));
  calib::Recipe r;
  r.scheme = ActScheme::kPerTensor;
  io::ExportOptions opt;
  opt.source_dir = llama_fixture();
  try {
    (void)io::export_compressed_tensors(io::load_hf(llama_fixture()), r, opt, dir.path());
    FAIL("AQ2 was exported");
  } catch (spikequant::Error const& e) {
    CHECK(e.kind() == ErrorKind::kUnsupported);
    std::string const what = e.what();
    CHECK(what.find("w8a8-per-token") != std::string::npos);
    CHECK(what.find("w8a8-static") != std::string::npos);
    CHECK(what.find("--allow-unservable") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "config.json"));
  opt.allow_unservable = true;
  auto const res = io::export_compressed_tensors(io::load_hf(llama_fixture()), r, opt, dir.path());
  CHECK_FALSE(res.vllm_servable);
  auto const acts = read_json(
      dir / "config.json")["quantization_config"]["config_groups"]["group_0"]["input_activations"];
  CHECK(acts["strategy"] == "tensor");
  CHECK(acts["dynamic"] == true);
  CHECK(read_json(dir / "spikequant_export.json")["vllm_servable"] == false);

  r.scheme = ActScheme::kPerToken;
  opt.allow_unservable = false;
  opt.max_shard_bytes = 0;
  (void)io::export_compressed_tensors(io::load_hf(llama_fixture()), r, opt, dir.path());
  CHECK(std::filesystem::exists(dir / "model.safetensors"));
  CHECK_FALSE(std::filesystem::exists(dir / "model.safetensors.index.json"));  // stale one gone
  auto const tok = read_json(
      dir / "config.json")["quantization_config"]["config_groups"]["group_0"]["input_activations"];
  CHECK(tok["strategy"] == "token");
  CHECK(tok["dynamic"] == true);
  ExportedFiles const f(dir.path());
  CHECK_FALSE(f.where.contains("model.layers.0.self_attn.q_proj.input_scale"));
}

TEST_CASE("export: a static recipe missing a scale, or not fitting the model, is an error") {
  spikequant_test::TempDir dir("ct_export_bad");
  llama::Model const m(io::load_hf(llama_fixture()));
  auto r = static_recipe(m);
  r.static_scales.erase(ModuleId{0, ModuleKind::kO, -1});
  io::ExportOptions opt;
  opt.source_dir = llama_fixture();
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::export_compressed_tensors(io::load_hf(llama_fixture()), r, opt, dir.path()),
      ErrorKind::kFormat);
  auto r2 = static_recipe(m);
  r2.excluded.insert(ModuleId{7, ModuleKind::kDown, -1});
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::export_compressed_tensors(io::load_hf(llama_fixture()), r2, opt, dir.path()),
      ErrorKind::kFormat);
}

TEST_CASE("export: SmoothQuant factors are folded before quantizing") {
  spikequant_test::TempDir dir("ct_export_sq");
  auto const weights = io::load_hf(llama_fixture());
  auto const& c = weights.config;
  calib::Recipe r;
  r.scheme = ActScheme::kPerToken;
  calib::Smoothing sm;
  sm.alpha = 0.5f;
  for (int l = 0; l < c.n_layers; ++l) {
    std::vector<float> a(static_cast<std::size_t>(c.dim)), b(static_cast<std::size_t>(c.dim));
    for (int i = 0; i < c.dim; ++i) {
      a[static_cast<std::size_t>(i)] = 0.5f + 0.05f * static_cast<float>(i);
      b[static_cast<std::size_t>(i)] = 2.0f - 0.03f * static_cast<float>(i);
    }
    sm.layers.push_back({a, l == 0 ? b : std::vector<float>{}});
  }
  r.smoothing = sm;
  io::ExportOptions opt;
  opt.source_dir = llama_fixture();
  (void)io::export_compressed_tensors(weights, r, opt, dir.path());
  ExportedFiles const f(dir.path());
  // Independent fold: the norm divided by s, each weight column multiplied by s.
  auto const& L0 = weights.layers[0];
  auto const norm = f.floats("model.layers.0.input_layernorm.weight");
  for (int i = 0; i < c.dim; ++i) {
    auto const k = static_cast<std::size_t>(i);
    CHECK(norm[k] == doctest::Approx(L0.attn_norm[k] / sm.layers[0].attn[k]).epsilon(1e-6));
  }
  std::vector<float> wq = L0.wq;
  for (std::size_t row = 0; row < wq.size() / static_cast<std::size_t>(c.dim); ++row) {
    for (int i = 0; i < c.dim; ++i) {
      wq[row * static_cast<std::size_t>(c.dim) + static_cast<std::size_t>(i)] *=
          sm.layers[0].attn[static_cast<std::size_t>(i)];
    }
  }
  llama::Model const smoothed(calib::apply_smoothing(weights, sm));
  auto const& q = smoothed.quantized_weight({0, ModuleKind::kQ, -1});
  CHECK(f.codes("model.layers.0.self_attn.q_proj.weight") == q.codes);
  // ... and those codes are per-row absmax/127 codes of the independently folded weight.
  auto const scales = f.floats("model.layers.0.self_attn.q_proj.weight_scale");
  for (std::size_t row = 0; row < scales.size(); ++row) {
    float amax = 0.0f;
    for (int i = 0; i < c.dim; ++i) {
      amax = std::max(
          amax, std::abs(wq[row * static_cast<std::size_t>(c.dim) + static_cast<std::size_t>(i)]));
    }
    CHECK(scales[row] == doctest::Approx(amax / 127.0f).epsilon(1e-5));
  }
  // The layer-1 FFN had no factors: its norm is the source's.
  CHECK(f.floats("model.layers.1.post_attention_layernorm.weight") == weights.layers[1].ffn_norm);
}

TEST_CASE("export: stories260K (llama2.c) gets a LlamaConfig and rotate-half q/k rows") {
  auto const data = spikequant_test::data_dir();
  auto const bin = data / "models" / "stories260K" / "stories260K.bin";
  if (data.empty() || !std::filesystem::exists(bin)) {
    MESSAGE("skipped: no shared data (SPIKEQUANT_DATA)");
    return;
  }
  spikequant_test::TempDir dir("ct_export_260k");
  llama::Model const m(io::load_llama2c(bin));
  calib::Recipe r;
  r.scheme = ActScheme::kPerToken;
  r.excluded = {{4, ModuleKind::kDown, -1}};
  (void)io::export_compressed_tensors(io::load_llama2c(bin), r, {}, dir.path());
  auto const cfg = read_json(dir / "config.json");
  CHECK(cfg["model_type"] == "llama");
  CHECK(cfg["num_key_value_heads"] == 4);
  CHECK(cfg["tie_word_embeddings"] == true);
  CHECK(cfg["rms_norm_eps"] == 1e-5);  // the float 1e-5 written in its shortest form
  ExportedFiles const f(dir.path());
  CHECK_FALSE(f.where.contains("lm_head.weight"));
  // v and o are not permuted: byte-identical to the library's codes.
  CHECK(
      f.codes("model.layers.2.self_attn.v_proj.weight") ==
      m.quantized_weight({2, ModuleKind::kV, -1}).codes);
  // Rebuilt as a Hugging Face (rotate-half) model, the files give the llama2.c model's
  // W8A16 emulation: the permutation and the RoPE convention agree.
  auto w = f.as_float(dir.path());
  CHECK(w.config.rope == llama::RopeStyle::kRotateHalf);
  llama::Model const back(std::move(w));
  std::vector<int> const tokens = {1, 403, 407, 261, 378, 12, 260, 45, 300, 17};
  auto cache = back.make_cache(10);
  auto const got = back.forward_all(tokens, cache);
  CHECK(max_abs_diff(got, export_emulation_logits(m, r, tokens)) < 1e-3);
}

TEST_CASE("export: tokenizer files are copied, float tensors stored as BF16 on request") {
  spikequant_test::TempDir src("ct_export_src");
  for (auto const& e : std::filesystem::directory_iterator(llama_fixture())) {
    std::filesystem::copy_file(e.path(), src / e.path().filename().string());
  }
  std::ofstream(src / "tokenizer.json") << "{\"model\": {}}";
  std::ofstream(src / "tokenizer_config.json") << "{}";
  std::ofstream(src / "notes.txt") << "not a tokenizer file";
  spikequant_test::TempDir dir("ct_export_bf16");
  calib::Recipe r;
  r.scheme = ActScheme::kPerToken;
  io::ExportOptions opt;
  opt.source_dir = src.path();
  opt.float_dtype = io::Dtype::kBF16;
  auto const w = io::load_hf(src.path());
  auto const res = io::export_compressed_tensors(w, r, opt, dir.path());
  CHECK(std::find(res.files.begin(), res.files.end(), "tokenizer.json") != res.files.end());
  CHECK(
      spikequant_test::slurp(dir / "tokenizer.json") ==
      spikequant_test::slurp(src / "tokenizer.json"));
  CHECK(std::filesystem::exists(dir / "tokenizer_config.json"));
  CHECK_FALSE(std::filesystem::exists(dir / "notes.txt"));
  CHECK(read_json(dir / "config.json")["dtype"] == "bfloat16");
  ExportedFiles const f(dir.path());
  CHECK(f.info("model.embed_tokens.weight").dtype == io::Dtype::kBF16);
  CHECK(f.info("model.layers.0.self_attn.q_proj.weight_scale").dtype == io::Dtype::kF32);
  auto const emb = f.floats("model.embed_tokens.weight");
  for (std::size_t i = 0; i < emb.size(); ++i) {
    CHECK(emb[i] == io::bf16_to_float(io::float_to_bf16(w.embedding[i])));
  }
}
