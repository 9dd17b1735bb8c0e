// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Hugging Face checkpoints: the committed tiny LLaMA / Mistral / Mixtral / Gemma
//! fixtures against the values torch wrote beside them, config parsing, and broken
//! checkpoints.
#include "io_test_util.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/io/safetensors_writer.hpp"

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
  // Mixtral: the router and a few experts' w1 (gate) / w3 (up) / w2 (down).
  if (name == "model.layers.0.block_sparse_moe.gate.weight") {
    return w.layers.at(0).router;
  }
  if (name == "model.layers.0.block_sparse_moe.experts.2.w2.weight") {
    return w.layers.at(0).experts.at(2).w_down;
  }
  if (name == "model.layers.1.block_sparse_moe.experts.3.w1.weight") {
    return w.layers.at(1).experts.at(3).w_gate;
  }
  if (name == "model.layers.1.block_sparse_moe.experts.1.w3.weight") {
    return w.layers.at(1).experts.at(1).w_up;
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
  CHECK(c.activation == GluKind::kSwiGlu);
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
  CHECK(c.activation == GluKind::kGeGlu);
  CHECK(c.tied_embeddings);
  CHECK(c.embedding_scale == static_cast<float>(std::sqrt(32.0)));
  CHECK(w.layers.at(0).wq.size() == 64u * 32u);  // (heads * head_dim, dim)
  CHECK(w.layers.at(0).wo.size() == 32u * 64u);
  check_samples(w, read_json(fixture("gemma") / "logits.json"), true);
}

TEST_CASE("hf: mixtral fixture (4 experts, top-2, router and experts per layer)") {
  auto const w = io::load_hf(fixture("mixtral"));
  auto const& c = w.config;
  CHECK(c.family == "mixtral");
  CHECK(c.n_experts == 4);
  CHECK(c.experts_per_token == 2);
  CHECK(c.dim == 32);
  CHECK(c.hidden_dim == 40);
  CHECK(c.n_kv_heads == 2);
  CHECK(c.head_dim == 8);  // "head_dim": null -> hidden / heads
  CHECK(c.sliding_window == 0);
  CHECK(c.activation == GluKind::kSwiGlu);
  CHECK_FALSE(c.tied_embeddings);
  for (auto const& L : w.layers) {
    CHECK(L.w_gate.empty());  // no dense FFN
    CHECK(L.w_up.empty());
    CHECK(L.w_down.empty());
    CHECK(L.router.size() == 4u * 32u);
    REQUIRE(L.experts.size() == 4u);
    for (auto const& E : L.experts) {
      CHECK(E.w_gate.size() == 40u * 32u);
      CHECK(E.w_up.size() == 40u * 32u);
      CHECK(E.w_down.size() == 32u * 40u);
    }
  }
  // w1 and w3 are different tensors (a swapped gate/up would go unnoticed otherwise).
  CHECK(w.layers[0].experts[0].w_gate != w.layers[0].experts[0].w_up);
  check_samples(w, read_json(fixture("mixtral") / "logits.json"), false);
}

TEST_CASE("hf: mixtral config.json, defaults and rejections") {
  std::string const base =
      R"("model_type":"mixtral","hidden_size":16,"intermediate_size":24,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":10)";
  auto const c =
      io::parse_hf_config("{" + base + R"(,"num_local_experts":4,"num_experts_per_tok":1})");
  CHECK(c.family == "mixtral");
  CHECK(c.n_experts == 4);
  CHECK(c.experts_per_token == 1);
  auto const d = io::parse_hf_config("{" + base + "}");  // MixtralConfig's defaults
  CHECK(d.n_experts == 8);
  CHECK(d.experts_per_token == 2);
  CHECK(d.sliding_window == 0);
  CHECK(d.rope_theta == 1e6f);  // MixtralConfig.default_theta
  CHECK(d.norm_eps == 1e-5f);
  CHECK(io::parse_hf_config("{" + base + R"(,"sliding_window":4096})").sliding_window == 4096);
  CHECK(
      io::parse_hf_config(
          "{" + base + R"(,"rope_parameters":{"rope_theta":1e6,"rope_type":"default"}})")
          .rope_theta == 1e6f);
  // Dense families never get experts, whatever stray keys say.
  CHECK(
      io::parse_hf_config(
          R"({"model_type":"mistral","num_local_experts":8,"hidden_size":16,"intermediate_size":24,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":10})")
          .n_experts == 0);

  auto bad = [&](std::string const& extra, std::string const& needle) {
    CAPTURE(extra);
    try {
      (void)io::parse_hf_config("{" + base + extra + "}");
      FAIL("accepted a bad mixtral config");
    } catch (Error const& e) {
      CHECK(e.kind() == ErrorKind::kFormat);
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  bad(R"(,"num_local_experts":4,"num_experts_per_tok":5)",
      "num_experts_per_tok must be in [1, num_local_experts = 4], got 5");
  bad(R"(,"num_local_experts":0)", "num_local_experts must be > 0");
  bad(R"(,"num_local_experts":-2)", "num_local_experts must be > 0");
  bad(R"(,"num_local_experts":4,"num_experts_per_tok":0)", "num_experts_per_tok must be in");
  bad(R"(,"num_local_experts":2.5)", "'num_local_experts' is not an integer");
  bad(R"(,"num_experts_per_tok":"2")", "'num_experts_per_tok' is not an integer");
  bad(R"(,"sliding_window":-1)", "sliding_window must be >= 0");
}

TEST_CASE("hf: config.json parsing, defaults and rejections") {
  std::string const base =
      R"("hidden_size":16,"intermediate_size":24,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":10)";
  auto const llama_c = io::parse_hf_config(R"({"model_type":"llama",)" + base + "}");
  CHECK(llama_c.n_kv_heads == 2);
  CHECK(llama_c.head_dim == 8);
  CHECK(llama_c.rope_theta == 10000.0f);
  CHECK(llama_c.norm_eps == 1e-6f);
  CHECK(llama_c.bos_id == 1);
  CHECK(llama_c.eos_id == 2);
  auto const mistral_c = io::parse_hf_config(R"({"model_type":"mistral",)" + base + "}");
  CHECK(mistral_c.sliding_window == 4096);  // MistralConfig's default when the key is absent
  CHECK(mistral_c.rope_theta == 10000.0f);
  CHECK(mistral_c.norm_eps == 1e-6f);
  CHECK_FALSE(llama_c.tied_embeddings);
  CHECK(llama_c.activation == GluKind::kSwiGlu);
  auto const gemma_c = io::parse_hf_config(
      R"({"model_type":"gemma","hidden_act":"gelu","rope_theta":500.0,)" + base + "}");
  CHECK(gemma_c.tied_embeddings);
  CHECK(gemma_c.head_dim == 256);  // GemmaConfig's default
  CHECK(gemma_c.rope_theta == 500.0f);
  CHECK(gemma_c.activation == GluKind::kGeGlu);
  CHECK(gemma_c.embedding_scale == 4.0f);
  CHECK(gemma_c.bos_id == 2);  // GemmaConfig: bos 2, eos 1
  CHECK(gemma_c.eos_id == 1);
  CHECK(gemma_c.norm_eps == 1e-6f);
  auto const ids = io::parse_hf_config(
      R"({"model_type":"mistral","bos_token_id":5,"eos_token_id":[7,8],)" + base + "}");
  CHECK(ids.bos_id == 5);
  CHECK(ids.eos_id == 7);
  CHECK(ids.sliding_window == 4096);  // absent: MistralConfig.sliding_window = 4096
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

// Rewrites dir/model.safetensors after `edit` changed its tensors (all written as F32).
template <class F>
void edit_tensors(fs::path const& dir, F&& edit) {
  auto const st = io::Safetensors::open(dir / "model.safetensors");
  std::vector<io::TensorToWrite> ts;
  for (auto const& t : st.tensors()) {
    ts.push_back({t.name, t.shape, st.to_float(t), io::Dtype::kF32});
  }
  edit(ts);
  io::write_safetensors(dir / "model.safetensors", ts);
}

// load_hf must throw `kind` with every needle in its message.
void expect_load_error(
    fs::path const& dir, ErrorKind kind, std::initializer_list<std::string> needles) {
  try {
    (void)io::load_hf(dir);
    FAIL("expected an error");
  } catch (Error const& e) {
    CHECK(e.kind() == kind);
    for (auto const& n : needles) {
      CHECK_MESSAGE(std::string(e.what()).find(n) != std::string::npos, e.what());
    }
  }
}
}  // namespace

TEST_CASE("hf: broken mixtral checkpoints name what is wrong") {
  spikequant_test::TempDir tmp("hf_moe");
  copy_fixture("mixtral", tmp / "x");
  auto const dir = tmp / "x";
  SUBCASE("a missing expert tensor is named") {
    edit_tensors(dir, [](std::vector<io::TensorToWrite>& ts) {
      std::erase_if(ts, [](auto const& t) {
        return t.name == "model.layers.1.block_sparse_moe.experts.2.w3.weight";
      });
    });
    expect_load_error(
        dir,
        ErrorKind::kFormat,
        {"1 missing tensor(s)", "'model.layers.1.block_sparse_moe.experts.2.w3.weight'"});
  }
  SUBCASE("a missing router is named") {
    edit_tensors(dir, [](std::vector<io::TensorToWrite>& ts) {
      std::erase_if(ts, [](auto const& t) {
        return t.name == "model.layers.0.block_sparse_moe.gate.weight";
      });
    });
    expect_load_error(dir, ErrorKind::kFormat, {"'model.layers.0.block_sparse_moe.gate.weight'"});
  }
  SUBCASE("wrong router shape") {
    edit_tensors(dir, [](std::vector<io::TensorToWrite>& ts) {
      for (auto& t : ts) {
        if (t.name == "model.layers.1.block_sparse_moe.gate.weight") {
          t.shape = {32, 4};  // transposed
        }
      }
    });
    expect_load_error(
        dir,
        ErrorKind::kShape,
        {"model.layers.1.block_sparse_moe.gate.weight", "[32, 4]", "expected [4, 32]"});
  }
  SUBCASE("more experts in config.json than in the file") {
    edit_config(dir, "num_local_experts", 5);
    // The router's shape is checked against the config too, but missing tensors come first.
    expect_load_error(
        dir,
        ErrorKind::kFormat,
        {"6 missing tensor(s)", "'model.layers.0.block_sparse_moe.experts.4.w1.weight'"});
  }
  SUBCASE("fewer experts in config.json: the router shape disagrees") {
    edit_config(dir, "num_local_experts", 3);
    expect_load_error(
        dir, ErrorKind::kShape, {"block_sparse_moe.gate.weight", "[4, 32]", "expected [3, 32]"});
  }
  SUBCASE("wrong expert shape (intermediate_size)") {
    edit_config(dir, "intermediate_size", 48);
    expect_load_error(
        dir, ErrorKind::kShape, {"block_sparse_moe.experts.0.w1.weight", "[40, 32]", "[48, 32]"});
  }
  SUBCASE("num_experts_per_tok > num_local_experts, 0 experts, absurd expert counts") {
    edit_config(dir, "num_experts_per_tok", 5);
    expect_load_error(
        dir,
        ErrorKind::kFormat,
        {"num_experts_per_tok must be in [1, num_local_experts = 4], got 5"});
    edit_config(dir, "num_experts_per_tok", 2);
    edit_config(dir, "num_local_experts", 0);
    expect_load_error(dir, ErrorKind::kFormat, {"num_local_experts must be > 0"});
    edit_config(dir, "num_local_experts", 2000000000);
    expect_load_error(
        dir, ErrorKind::kFormat, {"of 2000000000 experts but the checkpoint holds only"});
  }
  SUBCASE("a dense config over MoE tensors: the dense FFN is missing") {
    edit_config(dir, "model_type", "mistral");
    expect_load_error(dir, ErrorKind::kFormat, {"'model.layers.0.mlp.gate_proj.weight'"});
  }
}

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
