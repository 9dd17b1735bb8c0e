// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Export of a calibrated model to a Hugging Face folder in the compressed-tensors
//! format ("int-quantized"), the checkpoint vLLM and llm-compressor load:
//! - config.json: the source's (or, for a llama2.c model, a LlamaConfig written from ours)
//!   with `quantization_config` (INT8 W8A8, symmetric per-channel weights, the recipe's
//!   activation scheme, `ignore` = lm_head + the QFeM exclusions with their siblings);
//! - safetensors: per quantized module `weight` (I8, the codes Model::quantized_weight
//!   computes, bit for bit), `weight_scale` (F32, (out, 1)) and, for a static scheme,
//!   `input_scale` (F32, (1)) from the recipe; SmoothQuant factors folded into the norms and
//!   weights before quantizing; excluded modules, norms, embeddings and lm_head in float;
//!   sharded past a size limit;
//! - tokenizer files copied from the source folder;
//! - spikequant_export.json: what the format cannot carry (the QFeP prefix, BMM
//!   quantization, planted spikes, W8A16 instead of float for excluded modules) and the recipe.
//! Scheme mapping (checked against vLLM's compressed_tensors.py, see docs/serving.md): vLLM's
//! INT8 W8A8 path serves static per-tensor (AQ3) and dynamic per-token (AQ1) activations; it
//! has no dynamic per-tensor INT8 scheme, so AQ2 is refused unless `allow_unservable`.
#pragma once

#include "spikequant/calib/recipe.hpp"
#include "spikequant/calib/smoothquant.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/core/policy.hpp"
#include "spikequant/io/safetensors_writer.hpp"
#include "spikequant/model/model.hpp"

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace spikequant::inline v0::io {

//! Whether vLLM's compressed-tensors INT8 W8A8 path has a scheme for these activations
//! (`_is_static_tensor_w8a8` or `_is_dynamic_token_w8a8`).
inline constexpr bool vllm_serves(ActScheme act) noexcept {
  return act == ActScheme::kPerToken || act == ActScheme::kStatic;
}

struct ExportOptions {
  //! The Hugging Face folder the model came from: its config.json is extended and its
  //! tokenizer files copied. Empty for a llama2.c model (config.json is written from ours).
  std::filesystem::path source_dir;
  //! Write a scheme vLLM cannot serve (AQ2, dynamic per-tensor) instead of refusing it.
  bool allow_unservable = false;
  //! Start a new shard past this many bytes of tensor data (<= 0: one file).
  std::int64_t max_shard_bytes = std::int64_t{5} << 30;
  //! How the float tensors (norms, embeddings, lm_head, excluded modules) are stored:
  //! kF32, kF16 or kBF16. Scales are always F32.
  Dtype float_dtype = Dtype::kF32;
};

//! What export_compressed_tensors wrote.
struct ExportResult {
  std::vector<std::string> files;      //!< relative to the output folder
  std::vector<std::string> quantized;  //!< HF module names stored as INT8
  std::vector<std::string> ignored;    //!< the `ignore` list (lm_head first)
  bool vllm_servable = true;
};

namespace detail {

inline char const* torch_dtype_name(Dtype d) {
  return d == Dtype::kBF16 ? "bfloat16" : d == Dtype::kF16 ? "float16" : "float32";
}

//! The `quantization_config` block for this recipe (calib::export_quantization_config with
//! the fields transformers' loader wants: the status of a saved, compressed checkpoint).
inline nlohmann::json quantization_config(calib::Recipe const& r) {
  auto qc = calib::export_quantization_config(r).at("quantization_config");
  qc["quantization_status"] = "compressed";
  qc["kv_cache_scheme"] = nullptr;
  return qc;
}

//! A float as the double with the same shortest decimal form (1e-05, not 9.99999974e-06).
inline double json_float(float v) {
  char buf[32];
  auto const r = std::to_chars(buf, buf + sizeof(buf), v);
  double d = 0.0;
  std::from_chars(buf, r.ptr, d);
  return d;
}

//! A LlamaConfig for a llama2.c model (Hugging Face's convert script writes the same keys).
inline nlohmann::json llama_config_json(llama::Config const& c) {
  return {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"hidden_size", c.dim},
      {"intermediate_size", c.hidden_dim},
      {"num_hidden_layers", c.n_layers},
      {"num_attention_heads", c.n_heads},
      {"num_key_value_heads", c.n_kv_heads},
      {"head_dim", c.head_dim},
      {"vocab_size", c.vocab_size},
      {"max_position_embeddings", c.max_seq_len},
      {"rms_norm_eps", json_float(c.norm_eps)},
      {"rope_theta", json_float(c.rope_theta)},  // transformers 4; 5 reads rope_parameters
      {"rope_parameters", {{"rope_theta", json_float(c.rope_theta)}, {"rope_type", "default"}}},
      {"tie_word_embeddings", c.tied_embeddings},
      {"hidden_act", "silu"},
      {"attention_bias", false},
      {"mlp_bias", false},
      {"bos_token_id", c.bos_id},
      {"eos_token_id", c.eos_id}};
}

//! Row permutation from llama2.c's interleaved RoPE layout to Hugging Face's rotate-half
//! layout (what convert_llama_weights_to_hf.py's permute does): within each head, HF row
//! j * head_dim / 2 + i is llama2.c row 2 i + j.
inline std::vector<std::int64_t> rope_rows_to_hf(int n_heads, int head_dim) {
  std::vector<std::int64_t> from(static_cast<std::size_t>(n_heads) * head_dim);
  int const half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    for (int j = 0; j < 2; ++j) {
      for (int i = 0; i < half; ++i) {
        from[static_cast<std::size_t>(h * head_dim + j * half + i)] = h * head_dim + 2 * i + j;
      }
    }
  }
  return from;
}

template <class T>
std::vector<T>
permute_rows(std::vector<T> const& m, std::int64_t cols, std::vector<std::int64_t> const& from) {
  std::vector<T> out(m.size());
  for (std::size_t r = 0; r < from.size(); ++r) {
    std::copy_n(
        m.begin() + from[r] * cols, cols, out.begin() + static_cast<std::int64_t>(r) * cols);
  }
  return out;
}

//! Tokenizer and generation files worth copying beside the weights.
inline bool is_tokenizer_file(std::string const& name) {
  return name == "tokenizer.json" || name == "tokenizer.model" || name == "tokenizer_config.json" ||
         name == "special_tokens_map.json" || name == "added_tokens.json" || name == "vocab.json" ||
         name == "merges.txt" || name == "generation_config.json" ||
         name.starts_with("chat_template");
}

inline void write_json(std::filesystem::path const& path, nlohmann::json const& j) {
  std::ofstream out(path, std::ios::trunc);
  require(out.is_open(), ErrorKind::kIo, "cannot create '", path.string(), "'");
  out << j.dump(2) << "\n";
  require(out.good(), ErrorKind::kIo, "cannot write '", path.string(), "'");
}

}  // namespace detail

//! The refusal text for a scheme vLLM cannot serve.
inline std::string unservable_message(ActScheme act) {
  return "the recipe's activation scheme " + std::string(to_string(act)) +
         " (dynamic per-tensor, AQ2) has no INT8 W8A8 kernel in vLLM's compressed-tensors "
         "path (it serves static per-tensor and dynamic per-token only); re-run the recipe "
         "as w8a8-per-token (AQ1) or w8a8-static (AQ3, our calibrated scales become "
         "input_scale), or pass --allow-unservable to write it anyway";
}

//! Writes `weights` under `recipe` as a compressed-tensors checkpoint into `out_dir` (created;
//! files of the same names are replaced). See the file comment for the layout.
//! Throws Error(kUnsupported) for a model family the export does not map (Gemma's folded
//! norms, Mixtral's experts) or an unservable scheme without allow_unservable; kFormat when
//! the recipe does not fit the model or a static scale is missing; kIo on file errors.
inline ExportResult export_compressed_tensors(
    llama::Weights weights,
    calib::Recipe const& recipe,
    ExportOptions const& opt,
    std::filesystem::path const& out_dir) {
  namespace fs = std::filesystem;
  auto const cfg = weights.config;
  require(
      cfg.family == "llama" || cfg.family == "mistral" || cfg.family == "llama2c",
      ErrorKind::kUnsupported,
      "export: model family '",
      cfg.family,
      "' is not mapped to compressed-tensors yet (llama, mistral and llama2.c models are)");
  require(
      opt.float_dtype == Dtype::kF32 || opt.float_dtype == Dtype::kF16 ||
          opt.float_dtype == Dtype::kBF16,
      ErrorKind::kInvalidArgument,
      "export: float tensors are stored as F32, F16 or BF16, not ",
      to_string(opt.float_dtype));
  bool const servable = vllm_serves(recipe.scheme);
  require(
      servable || opt.allow_unservable,
      ErrorKind::kUnsupported,
      "export: ",
      unservable_message(recipe.scheme));
  bool const from_llama2c = cfg.family == "llama2c";
  require(
      from_llama2c == (cfg.rope == llama::RopeStyle::kInterleaved),
      ErrorKind::kUnsupported,
      "export: RoPE layout does not match the model family");
  if (recipe.smoothing) {
    weights = calib::apply_smoothing(std::move(weights), *recipe.smoothing);
  }
  llama::Model const model(std::move(weights));
  auto const ids = model.module_ids();
  calib::check_recipe_fits(recipe, ids, cfg.n_layers, cfg.dim, cfg.vocab_size);
  bool const is_static = recipe.scheme == ActScheme::kStatic;

  ExportResult res;
  res.vllm_servable = servable;
  auto const ignore = calib::export_ignore_list(recipe);  // named: the loop reads into it
  for (auto const& name : ignore.at("ignore")) {
    res.ignored.push_back(name.get<std::string>());
  }
  auto const rope_from = detail::rope_rows_to_hf(cfg.n_heads, cfg.head_dim);
  auto const kv_rope_from = detail::rope_rows_to_hf(cfg.n_kv_heads, cfg.head_dim);
  auto const rope_rows = [&](ModuleId const& id) -> std::vector<std::int64_t> const* {
    if (!from_llama2c) {
      return nullptr;
    }
    return id.kind == ModuleKind::kQ   ? &rope_from
           : id.kind == ModuleKind::kK ? &kv_rope_from
                                       : nullptr;
  };

  std::vector<EncodedTensor> tensors;
  auto add_float =
      [&](std::string name, std::vector<std::int64_t> shape, std::vector<float> const& v) {
        tensors.push_back(encode_tensor({std::move(name), std::move(shape), v, opt.float_dtype}));
      };
  auto add_module = [&](ModuleId const& id) {
    std::string const name = hf_name(id);
    auto const w = model.weight(id);
    std::vector<std::int64_t> const shape = {w.rows, w.cols};
    auto const* perm = rope_rows(id);
    if (recipe.excluded.contains(id)) {
      std::vector<float> v(w.data, w.data + w.rows * w.cols);
      add_float(name + ".weight", shape, perm ? detail::permute_rows(v, w.cols, *perm) : v);
      return;
    }
    // The codes and scales the library's W8A8 / W8A16 paths run with, not a re-quantization.
    auto const& q = model.quantized_weight(id);
    auto const codes = perm ? detail::permute_rows(q.codes, q.in_features, *perm) : q.codes;
    auto const scales = perm ? detail::permute_rows(q.scales, 1, *perm) : q.scales;
    tensors.push_back(encode_int8_tensor(name + ".weight", shape, codes));
    tensors.push_back(
        encode_tensor({name + ".weight_scale", {q.out_features, 1}, scales, Dtype::kF32}));
    if (is_static) {
      auto it = recipe.static_scales.find(id);
      require(
          it != recipe.static_scales.end(),
          ErrorKind::kFormat,
          "export: the recipe is w8a8-static but has no static scale for ",
          name);
      tensors.push_back(encode_tensor({name + ".input_scale", {1}, {it->second}, Dtype::kF32}));
    }
    res.quantized.push_back(name);
  };

  auto const& W = model.weights();
  std::int64_t const dim = cfg.dim;
  add_float("model.embed_tokens.weight", {cfg.vocab_size, dim}, W.embedding);
  for (int l = 0; l < cfg.n_layers; ++l) {
    auto const& L = W.layers[static_cast<std::size_t>(l)];
    std::string const p = "model.layers." + std::to_string(l) + ".";
    add_float(p + "input_layernorm.weight", {dim}, L.attn_norm);
    for (auto const& id : ids) {
      if (id.layer == l && (id.kind == ModuleKind::kQ || id.kind == ModuleKind::kK ||
                            id.kind == ModuleKind::kV || id.kind == ModuleKind::kO)) {
        add_module(id);
      }
    }
    add_float(p + "post_attention_layernorm.weight", {dim}, L.ffn_norm);
    for (auto const& id : ids) {
      if (id.layer == l && (id.kind == ModuleKind::kGate || id.kind == ModuleKind::kUp ||
                            id.kind == ModuleKind::kDown)) {
        add_module(id);
      }
    }
  }
  add_float("model.norm.weight", {dim}, W.final_norm);
  if (!cfg.tied_embeddings) {
    add_float("lm_head.weight", {cfg.vocab_size, dim}, W.lm_head);
  }

  // config.json: the source's, so every key the architecture needs survives.
  nlohmann::json config;
  if (!opt.source_dir.empty()) {
    std::ifstream in(opt.source_dir / "config.json");
    require(
        in.good(),
        ErrorKind::kIo,
        "export: cannot read '",
        (opt.source_dir / "config.json").string(),
        "'");
    try {
      config = nlohmann::json::parse(in);
    } catch (nlohmann::json::exception const& e) {
      fail(
          ErrorKind::kFormat,
          "export: ",
          (opt.source_dir / "config.json").string(),
          ": ",
          e.what());
    }
    require(config.is_object(), ErrorKind::kFormat, "export: config.json is not an object");
  } else {
    config = detail::llama_config_json(cfg);
  }
  config["dtype"] = detail::torch_dtype_name(opt.float_dtype);        // transformers 5's key
  config["torch_dtype"] = detail::torch_dtype_name(opt.float_dtype);  // transformers 4, vLLM
  config["quantization_config"] = detail::quantization_config(recipe);

  fs::create_directories(out_dir);
  // A stale index or single file of an earlier export would shadow the new weights.
  for (char const* stale : {"model.safetensors", "model.safetensors.index.json"}) {
    std::error_code ec;
    fs::remove(out_dir / stale, ec);
  }
  res.files = write_hf_safetensors(out_dir, tensors, opt.max_shard_bytes);
  detail::write_json(out_dir / "config.json", config);
  res.files.emplace_back("config.json");
  if (!opt.source_dir.empty()) {
    for (auto const& e : fs::directory_iterator(opt.source_dir)) {
      std::string const name = e.path().filename().string();
      if (e.is_regular_file() && detail::is_tokenizer_file(name)) {
        fs::copy_file(e.path(), out_dir / name, fs::copy_options::overwrite_existing);
        res.files.push_back(name);
      }
    }
  }

  // What compressed-tensors has no field for.
  nlohmann::json not_carried = nlohmann::json::object();
  if (!recipe.prefix_ids.empty()) {
    not_carried["qfep_prefix"] = {
        {"prefix_ids", recipe.prefix_ids},
        {"prefix_text", recipe.prefix_text},
        {"how",
         "prepend these token ids to every request; spikequant keeps the prefix's KV cache "
         "in float, a serving engine computes it with the quantized model (see "
         "docs/serving.md)"}};
  }
  if (recipe.bmm) {
    not_carried["bmm"] = {
        {"scheme", llama::bmm_name(recipe.bmm)},
        {"how",
         "not exported: compressed-tensors has no field for quantizing the attention "
         "BMM inputs this way"}};
  }
  if (recipe.plant_spikes) {
    not_carried["plant_spikes"] =
        "the recipe was calibrated with planted spikes (a test hook); the exported weights "
        "are the plain model's";
  }
  if (!recipe.excluded.empty()) {
    not_carried["qfem_w8a16"] =
        "spikequant runs QFeM's excluded modules W8A16; the checkpoint stores them in float "
        "and lists them in `ignore` (served unquantized)";
  }
  nlohmann::json sidecar = {
      {"format", "spikequant-export"},
      {"version", 1},
      {"scheme", std::string(to_string(recipe.scheme))},
      {"vllm_servable", servable},
      {"rope_permuted_from_llama2c", from_llama2c},
      {"not_carried", not_carried},
      {"recipe", calib::to_json(recipe)}};
  detail::write_json(out_dir / "spikequant_export.json", sidecar);
  res.files.emplace_back("spikequant_export.json");
  return res;
}

}  // namespace spikequant::v0::io
