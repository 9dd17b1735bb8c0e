// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Hugging Face checkpoints: the committed tiny LLaMA / Mistral / Gemma fixtures against
//! the values torch wrote beside them, config parsing, and broken checkpoints.
#include "io_test_util.hpp"
#include "spikequant/io/hf_checkpoint.hpp"

#include <cmath>
#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace spikequant;
namespace fs = std::filesystem;

namespace {

fs::path fixture(std::string const& name) {
  return spikequant_test::source_path("test/fixtures/hf/" + name);
}

nlohmann::json read_json(fs::path const& p) {
  std::ifstream in(p);
  REQUIRE(in.is_open());
  return nlohmann::json::parse(in);
}

std::vector<float> const& tensor_of(llama::Weights const& w, std::string const& name) {
  if (name == "model.embed_tokens.weight") {
    return w.embedding;
  }
  if (name == "model.norm.weight") {
    return w.final_norm;
  }
  if (name == "lm_head.weight") {
    return w.lm_head;
  }
  if (name == "model.layers.1.self_attn.k_proj.weight") {
    return w.layers.at(1).wk;
  }
  if (name == "model.layers.0.mlp.down_proj.weight") {
    return w.layers.at(0).w_down;
  }
  REQUIRE(name == "model.layers.1.input_layernorm.weight");
  return w.layers.at(1).attn_norm;
}

// Compares the loaded weights with torch's own values recorded in logits.json.
void check_samples(llama::Weights const& w, nlohmann::json const& ref, bool gemma) {
  for (auto const& [name, s] : ref["tensor_samples"].items()) {
    CAPTURE(name);
    bool const norm = name.find("norm") != std::string::npos;
    float const add = gemma && norm ? 1.0f : 0.0f;  // Gemma folds (1 + w)
    auto const& v = tensor_of(w, name);
    std::size_t numel = 1;
    for (auto d : s["shape"]) {
      numel *= d.get<std::size_t>();
    }
    REQUIRE(v.size() == numel);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(v[i] == s["first"][i].get<float>() + add);
    }
    CHECK(v.back() == s["last"].get<float>() + add);
    double sum = 0;
    for (float x : v) {
      sum += static_cast<double>(x) - add;
    }
    CHECK(sum == doctest::Approx(s["sum"].get<double>()).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE("hf: llama fixture (sharded, GQA, untied, rope_theta 50000)") {
  auto const w = io::load_hf(fixture("llama"));
  auto const& c = w.config;
  CHECK(c.family == "llama");
  CHECK(c.dim == 32);
  CHECK(c.hidden_dim == 40);
  CHECK(c.n_layers == 2);
  CHECK(c.n_heads == 4);
  CHECK(c.n_kv_heads == 2);
  CHECK(c.head_dim == 8);
  CHECK(c.vocab_size == 64);
  CHECK(c.max_seq_len == 64);
  CHECK(c.rope_theta == 50000.0f);
  CHECK(c.norm_eps == 1e-5f);
  CHECK(c.rope == llama::RopeStyle::kRotateHalf);
  CHECK(c.activation == llama::GluActivation::kSilu);
  CHECK_FALSE(c.tied_embeddings);
  CHECK(c.embedding_scale == 1.0f);
  CHECK(c.bos_id == 1);
  CHECK(c.eos_id == 2);
  CHECK(w.lm_head.size() == 64u * 32u);
  CHECK(w.layers.at(0).wk.size() == 16u * 32u);
  CHECK(w.layers.at(1).w_gate.size() == 40u * 32u);
  CHECK(fs::exists(fixture("llama") / "model.safetensors.index.json"));
  check_samples(w, read_json(fixture("llama") / "logits.json"), false);
}

TEST_CASE("hf: mistral fixture (single file, 1 KV head, tied)") {
  auto const w = io::load_hf(fixture("mistral"));
  auto const& c = w.config;
  CHECK(c.family == "mistral");
  CHECK(c.n_kv_heads == 1);
  CHECK(c.head_dim == 8);
  CHECK(c.norm_eps == 1e-6f);
  CHECK(c.rope_theta == 10000.0f);
  CHECK(c.tied_embeddings);
  CHECK(w.lm_head.empty());
  CHECK(w.layers.at(1).wv.size() == 8u * 32u);
  check_samples(w, read_json(fixture("mistral") / "logits.json"), false);
}

TEST_CASE("hf: gemma fixture (tied, head_dim 16 != 32/4, GeGLU, folded norms)") {
  auto const w = io::load_hf(fixture("gemma"));
  auto const& c = w.config;
  CHECK(c.family == "gemma");
  CHECK(c.head_dim == 16);
  CHECK(c.n_heads == 4);
  CHECK(c.activation == llama::GluActivation::kGeluTanh);
  CHECK(c.tied_embeddings);
  CHECK(c.embedding_scale == static_cast<float>(std::sqrt(32.0)));
  CHECK(w.layers.at(0).wq.size() == 64u * 32u);  // (heads * head_dim, dim)
  CHECK(w.layers.at(0).wo.size() == 32u * 64u);
  check_samples(w, read_json(fixture("gemma") / "logits.json"), true);
}

TEST_CASE("hf: config.json parsing, defaults and rejections") {
  std::string const base =
      R"("hidden_size":16,"intermediate_size":24,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":10)";
  auto const llama_c = io::parse_hf_config(R"({"model_type":"llama",)" + base + "}");
  CHECK(llama_c.n_kv_heads == 2);
  CHECK(llama_c.head_dim == 8);
  CHECK(llama_c.rope_theta == 10000.0f);
  CHECK_FALSE(llama_c.tied_embeddings);
  CHECK(llama_c.activation == llama::GluActivation::kSilu);
  auto const gemma_c = io::parse_hf_config(
      R"({"model_type":"gemma","hidden_act":"gelu","rope_theta":500.0,)" + base + "}");
  CHECK(gemma_c.tied_embeddings);
  CHECK(gemma_c.head_dim == 256);  // GemmaConfig's default
  CHECK(gemma_c.rope_theta == 500.0f);
  CHECK(gemma_c.activation == llama::GluActivation::kGeluTanh);
  CHECK(gemma_c.embedding_scale == 4.0f);
  auto const ids = io::parse_hf_config(
      R"({"model_type":"mistral","bos_token_id":5,"eos_token_id":[7,8],)" + base + "}");
  CHECK(ids.bos_id == 5);
  CHECK(ids.eos_id == 7);
  CHECK(ids.sliding_window == 0);  // absent: full attention
  CHECK(
      io::parse_hf_config(R"({"model_type":"mistral","sliding_window":null,)" + base + "}")
          .sliding_window == 0);
  CHECK(
      io::parse_hf_config(R"({"model_type":"mistral","sliding_window":4096,)" + base + "}")
          .sliding_window == 4096);
  // Only Mistral has one; a stray key on LLaMA is ignored as transformers' LlamaConfig does.
  CHECK(
      io::parse_hf_config(R"({"model_type":"llama","sliding_window":8,)" + base + "}")
          .sliding_window == 0);

  auto bad = [&](std::string const& text, ErrorKind k) {
    CAPTURE(text);
    SPIKEQUANT_CHECK_ERROR_KIND(io::parse_hf_config(text), k);
  };
  bad("", ErrorKind::kFormat);
  bad("{", ErrorKind::kFormat);
  bad("[]", ErrorKind::kFormat);
  bad("{" + base + "}", ErrorKind::kFormat);  // no model_type
  bad(R"({"model_type":"gpt2",)" + base + "}", ErrorKind::kUnsupported);
  bad(R"({"model_type":"mistral","sliding_window":-1,)" + base + "}", ErrorKind::kFormat);
  bad(R"({"model_type":"mistral","sliding_window":"4",)" + base + "}", ErrorKind::kFormat);
  bad(R"({"model_type":"llama","hidden_size":"16"})", ErrorKind::kFormat);
  bad(R"({"model_type":"llama",)" + base + R"(,"num_key_value_heads":3})", ErrorKind::kFormat);
  bad(R"({"model_type":"llama",)" + base + R"(,"num_key_value_heads":0})", ErrorKind::kFormat);
  bad(R"({"model_type":"llama",)" + base + R"(,"hidden_size":-16})", ErrorKind::kFormat);
  bad(R"({"model_type":"llama",)" + base + R"(,"vocab_size":99999999999})", ErrorKind::kFormat);
  bad(R"({"model_type":"llama",)" + base + R"(,"hidden_act":"relu"})", ErrorKind::kUnsupported);
  bad(R"({"model_type":"llama",)" + base + R"(,"hidden_act":"gelu"})", ErrorKind::kUnsupported);
  bad(R"({"model_type":"llama",)" + base + R"(,"rope_scaling":{"type":"linear","factor":2}})",
      ErrorKind::kUnsupported);
  bad(R"({"model_type":"llama",)" + base + R"(,"rope_parameters":{"rope_type":"llama3"}})",
      ErrorKind::kUnsupported);
  bad(R"({"model_type":"llama",)" + base + R"(,"attention_bias":true})", ErrorKind::kUnsupported);
  bad(R"({"model_type":"llama",)" + base + R"(,"tie_word_embeddings":1})", ErrorKind::kFormat);
}

namespace {
// Copies a fixture into a temp folder so a test can break it.
void copy_fixture(std::string const& name, fs::path const& to) {
  fs::create_directories(to);
  for (auto const& e : fs::directory_iterator(fixture(name))) {
    fs::copy_file(e.path(), to / e.path().filename(), fs::copy_options::overwrite_existing);
  }
}

void edit_config(fs::path const& dir, std::string const& key, nlohmann::json const& value) {
  auto j = read_json(dir / "config.json");
  j[key] = value;
  spikequant_test::write_text(dir / "config.json", j.dump());
}
}  // namespace

TEST_CASE("hf: broken checkpoints name what is wrong") {
  spikequant_test::TempDir tmp("hf");
  SUBCASE("shape mismatch names the tensor, expected and actual shapes") {
    copy_fixture("mistral", tmp / "m");
    edit_config(tmp / "m", "intermediate_size", 48);
    try {
      (void)io::load_hf(tmp / "m");
      FAIL("expected an error");
    } catch (Error const& e) {
      CHECK(e.kind() == ErrorKind::kShape);
      std::string const what = e.what();
      CHECK(what.find("mlp.gate_proj.weight") != std::string::npos);
      CHECK(what.find("[40, 32]") != std::string::npos);
      CHECK(what.find("[48, 32]") != std::string::npos);
    }
  }
  SUBCASE("untied config without lm_head: missing tensor named") {
    copy_fixture("mistral", tmp / "m");
    edit_config(tmp / "m", "tie_word_embeddings", false);
    try {
      (void)io::load_hf(tmp / "m");
      FAIL("expected an error");
    } catch (Error const& e) {
      CHECK(e.kind() == ErrorKind::kFormat);
      CHECK(std::string(e.what()).find("'lm_head.weight'") != std::string::npos);
    }
  }
  SUBCASE("more layers than the checkpoint holds") {
    copy_fixture("gemma", tmp / "g");
    edit_config(tmp / "g", "num_hidden_layers", 3);
    try {
      (void)io::load_hf(tmp / "g");
      FAIL("expected an error");
    } catch (Error const& e) {
      CHECK(e.kind() == ErrorKind::kFormat);
      CHECK(std::string(e.what()).find("model.layers.2.") != std::string::npos);
    }
    edit_config(tmp / "g", "num_hidden_layers", 2000000000);
    SPIKEQUANT_CHECK_ERROR_KIND(io::load_hf(tmp / "g"), ErrorKind::kFormat);
  }
  SUBCASE("sharded: a shard missing, a bad shard name, a broken index") {
    copy_fixture("llama", tmp / "l");
    auto index = read_json(tmp / "l" / "model.safetensors.index.json");
    fs::remove(tmp / "l" / "model-00002-of-00006.safetensors");
    SPIKEQUANT_CHECK_ERROR_KIND(io::load_hf(tmp / "l"), ErrorKind::kIo);
    index["weight_map"]["model.norm.weight"] = "../escape.safetensors";
    spikequant_test::write_text(tmp / "l" / "model.safetensors.index.json", index.dump());
    SPIKEQUANT_CHECK_ERROR_KIND(io::load_hf(tmp / "l"), ErrorKind::kFormat);
    spikequant_test::write_text(
        tmp / "l" / "model.safetensors.index.json", R"({"weight_map":[1]})");
    SPIKEQUANT_CHECK_ERROR_KIND(io::load_hf(tmp / "l"), ErrorKind::kFormat);
    spikequant_test::write_text(tmp / "l" / "model.safetensors.index.json", R"({"weight_map":)");
    SPIKEQUANT_CHECK_ERROR_KIND(io::load_hf(tmp / "l"), ErrorKind::kFormat);
  }
  SUBCASE("no weights, no config") {
    fs::create_directories(tmp / "e");
    SPIKEQUANT_CHECK_ERROR_KIND(io::load_hf(tmp / "e"), ErrorKind::kIo);
    fs::copy_file(fixture("mistral") / "config.json", tmp / "e" / "config.json");
    SPIKEQUANT_CHECK_ERROR_KIND(io::load_hf(tmp / "e"), ErrorKind::kIo);
  }
  SUBCASE("truncated single-file checkpoint") {
    copy_fixture("mistral", tmp / "m");
    auto const bytes = spikequant_test::slurp(tmp / "m" / "model.safetensors");
    for (std::size_t cut : {std::size_t{5}, std::size_t{200}, bytes.size() / 2, bytes.size() - 1}) {
      CAPTURE(cut);
      spikequant_test::write_bytes(
          tmp / "m" / "model.safetensors",
          {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
      SPIKEQUANT_CHECK_ERROR_KIND(io::load_hf(tmp / "m"), ErrorKind::kFormat);
    }
  }
}
