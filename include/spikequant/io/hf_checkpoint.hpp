// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Reader for Hugging Face LLaMA / Mistral / Mixtral / Gemma checkpoints (config.json
//! plus model.safetensors or a sharded model.safetensors.index.json) into llama::Weights.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"
#include "spikequant/io/safetensors.hpp"
#include "spikequant/model/weights.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spikequant::inline v0::io {

namespace detail {

//! A JSON member, or nullptr when absent or null.
inline nlohmann::json const* member(nlohmann::json const& j, std::string_view key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

inline int config_int(
    nlohmann::json const& j, std::string_view key, std::optional<int> fallback = std::nullopt) {
  auto const* v = member(j, key);
  if (v == nullptr) {
    require(fallback.has_value(), ErrorKind::kFormat, "config.json: missing '", key, "'");
    return *fallback;
  }
  require(v->is_number_integer(), ErrorKind::kFormat, "config.json: '", key, "' is not an integer");
  auto const x = v->get<std::int64_t>();
  require(
      x >= std::numeric_limits<int>::min() && x <= std::numeric_limits<int>::max(),
      ErrorKind::kFormat,
      "config.json: '",
      key,
      "' = ",
      x,
      " out of range");
  return static_cast<int>(x);
}

inline float config_float(
    nlohmann::json const& j, std::string_view key, std::optional<float> fallback = std::nullopt) {
  auto const* v = member(j, key);
  if (v == nullptr) {
    require(fallback.has_value(), ErrorKind::kFormat, "config.json: missing '", key, "'");
    return *fallback;
  }
  require(v->is_number(), ErrorKind::kFormat, "config.json: '", key, "' is not a number");
  auto const x = v->get<double>();
  require(std::isfinite(x), ErrorKind::kFormat, "config.json: '", key, "' is not finite");
  return static_cast<float>(x);
}

inline bool config_bool(nlohmann::json const& j, std::string_view key, bool fallback) {
  auto const* v = member(j, key);
  if (v == nullptr) {
    return fallback;
  }
  require(v->is_boolean(), ErrorKind::kFormat, "config.json: '", key, "' is not a boolean");
  return v->get<bool>();
}

inline std::string
config_string(nlohmann::json const& j, std::string_view key, std::string fallback) {
  auto const* v = member(j, key);
  if (v == nullptr) {
    return fallback;
  }
  require(v->is_string(), ErrorKind::kFormat, "config.json: '", key, "' is not a string");
  return v->get<std::string>();
}

//! bos/eos ids: an integer or a list of integers (the first is used); fallback when absent.
inline int config_token_id(nlohmann::json const& j, std::string_view key, int fallback) {
  auto const* v = member(j, key);
  if (v == nullptr) {
    return fallback;
  }
  if (v->is_array()) {
    require(
        !v->empty() && (*v)[0].is_number_integer(),
        ErrorKind::kFormat,
        "config.json: '",
        key,
        "' is not a list of ids");
    nlohmann::json const wrapped = {{"id", (*v)[0]}};
    return config_int(wrapped, "id");
  }
  nlohmann::json const wrapped = {{"id", *v}};
  return config_int(wrapped, "id");
}

//! What transformers 5.17's config class of a model_type uses for a field that config.json
//! leaves out (the table in docs/guide-running-models.md). One row per family, so a new
//! family states its defaults in one place.
struct FamilyDefaults {
  float rope_theta = 10000.0f;  //!< the class's default_theta
  float norm_eps = 1e-6f;
  int bos_id = 1;
  int eos_id = 2;
  bool tied_embeddings = false;
  int head_dim = 0;                 //!< 0: hidden_size / num_attention_heads
  char const* hidden_act = "silu";  //!< the gate activation
  int sliding_window = 0;           //!< when the key is absent (null always means none)
};

inline FamilyDefaults family_defaults(std::string_view type) {
  if (type == "mixtral") {
    return {.rope_theta = 1e6f, .norm_eps = 1e-5f};
  }
  if (type == "mistral") {
    return {.sliding_window = 4096};
  }
  if (type == "gemma") {
    return {
        .bos_id = 2,
        .eos_id = 1,
        .tied_embeddings = true,
        .head_dim = 256,
        .hidden_act = "gelu_pytorch_tanh"};
  }
  return {};  // llama
}

}  // namespace detail

//! Parses a Hugging Face config.json (model_type "llama", "mistral", "mixtral" or "gemma").
//! - Defaults as transformers 5.17's config classes define them (detail::family_defaults;
//!   the table in docs/guide-running-models.md); num_key_value_heads = num_attention_heads.
//! - hidden_activation (else hidden_act): "silu" -> kSwiGlu; "gelu_pytorch_tanh" or
//!   "gelu_new" -> kGeGlu; "gelu" -> kGeGlu for gemma only (as transformers does).
//! - Gemma: embedding_scale = float(sqrt(hidden_size)); norm weights get (1 + w) at load.
//! - RopeStyle::kRotateHalf. rope_scaling, attention/mlp biases are rejected (kUnsupported).
//! - Mistral and Mixtral: sliding_window (null: none) is honoured by the forward.
//! - Mixtral: num_local_experts (default 8) experts per layer, num_experts_per_tok (default
//!   2) of them per token, as MixtralConfig's defaults; both must be > 0 and
//!   num_experts_per_tok <= num_local_experts (kFormat otherwise).
//! @throws Error kFormat on malformed or inconsistent values, kUnsupported otherwise.
inline llama::Config parse_hf_config(std::string_view json_text) {
  auto const j = detail::parse_json(json_text, "config.json");
  require(j.is_object(), ErrorKind::kFormat, "config.json: not a JSON object");
  llama::Config c;
  std::string const type = detail::config_string(j, "model_type", "");
  require(!type.empty(), ErrorKind::kFormat, "config.json: missing 'model_type'");
  require(
      type == "llama" || type == "mistral" || type == "mixtral" || type == "gemma",
      ErrorKind::kUnsupported,
      "config.json: model_type '",
      type,
      "' is not supported (llama, mistral, mixtral, gemma)");
  bool const gemma = type == "gemma";
  detail::FamilyDefaults const defaults = detail::family_defaults(type);
  c.family = type;
  c.dim = detail::config_int(j, "hidden_size");
  c.hidden_dim = detail::config_int(j, "intermediate_size");
  c.n_layers = detail::config_int(j, "num_hidden_layers");
  c.n_heads = detail::config_int(j, "num_attention_heads");
  c.n_kv_heads = detail::config_int(j, "num_key_value_heads", c.n_heads);
  require(
      c.dim > 0 && c.hidden_dim > 0 && c.n_layers > 0 && c.n_heads > 0 && c.n_kv_heads > 0,
      ErrorKind::kFormat,
      "config.json: sizes must be > 0 (hidden_size ",
      c.dim,
      ", intermediate_size ",
      c.hidden_dim,
      ", num_hidden_layers ",
      c.n_layers,
      ", num_attention_heads ",
      c.n_heads,
      ", num_key_value_heads ",
      c.n_kv_heads,
      ")");
  require(
      c.n_heads % c.n_kv_heads == 0,
      ErrorKind::kFormat,
      "config.json: num_attention_heads ",
      c.n_heads,
      " is not a multiple of num_key_value_heads ",
      c.n_kv_heads);
  c.head_dim = detail::config_int(
      j, "head_dim", defaults.head_dim > 0 ? defaults.head_dim : c.dim / c.n_heads);
  require(
      c.head_dim > 0, ErrorKind::kFormat, "config.json: head_dim must be > 0, got ", c.head_dim);
  require(
      defaults.head_dim > 0 || detail::member(j, "head_dim") != nullptr || c.dim % c.n_heads == 0,
      ErrorKind::kFormat,
      "config.json: hidden_size ",
      c.dim,
      " is not a multiple of num_attention_heads ",
      c.n_heads);
  c.vocab_size = detail::config_int(j, "vocab_size");
  require(
      c.vocab_size > 0,
      ErrorKind::kFormat,
      "config.json: vocab_size must be > 0, got ",
      c.vocab_size);
  c.max_seq_len = detail::config_int(j, "max_position_embeddings", 2048);
  require(
      c.max_seq_len > 0, ErrorKind::kFormat, "config.json: max_position_embeddings must be > 0");
  // transformers < 5 writes rope_theta; 5.x writes rope_parameters {rope_theta, rope_type}.
  c.rope_theta = detail::config_float(j, "rope_theta", defaults.rope_theta);
  if (auto const* rp = detail::member(j, "rope_parameters"); rp != nullptr) {
    require(rp->is_object(), ErrorKind::kFormat, "config.json: 'rope_parameters' is not an object");
    std::string const rope_type = detail::config_string(*rp, "rope_type", "default");
    require(
        rope_type == "default",
        ErrorKind::kUnsupported,
        "config.json: rope_parameters.rope_type '",
        rope_type,
        "' is not supported (default only)");
    if (detail::member(*rp, "rope_theta") != nullptr) {
      c.rope_theta = detail::config_float(*rp, "rope_theta");
    }
  }
  require(c.rope_theta > 0.0f, ErrorKind::kFormat, "config.json: rope_theta must be > 0");
  // Mistral's and Mixtral's sliding window (null: full attention; absent: the family's
  // default). Other families have none.
  bool const mistral_like = type == "mistral" || type == "mixtral";
  int const window_default = j.contains("sliding_window") ? 0 : defaults.sliding_window;
  c.sliding_window = mistral_like ? detail::config_int(j, "sliding_window", window_default) : 0;
  require(
      c.sliding_window >= 0,
      ErrorKind::kFormat,
      "config.json: sliding_window must be >= 0 or null, got ",
      c.sliding_window);
  if (type == "mixtral") {
    c.n_experts = detail::config_int(j, "num_local_experts", 8);
    c.experts_per_token = detail::config_int(j, "num_experts_per_tok", 2);
    require(
        c.n_experts > 0,
        ErrorKind::kFormat,
        "config.json: num_local_experts must be > 0 for a mixtral model, got ",
        c.n_experts);
    require(
        c.experts_per_token > 0 && c.experts_per_token <= c.n_experts,
        ErrorKind::kFormat,
        "config.json: num_experts_per_tok must be in [1, num_local_experts = ",
        c.n_experts,
        "], got ",
        c.experts_per_token);
  }
  c.norm_eps = detail::config_float(j, "rms_norm_eps", defaults.norm_eps);
  require(c.norm_eps >= 0.0f, ErrorKind::kFormat, "config.json: rms_norm_eps must be >= 0");
  c.rope = llama::RopeStyle::kRotateHalf;
  c.tied_embeddings = detail::config_bool(j, "tie_word_embeddings", defaults.tied_embeddings);
  std::string act = detail::config_string(j, "hidden_activation", "");
  if (act.empty()) {
    act = detail::config_string(j, "hidden_act", defaults.hidden_act);
  }
  if (act == "silu" || act == "swish") {
    c.activation = GluKind::kSwiGlu;
  } else if (act == "gelu_pytorch_tanh" || act == "gelu_new" || (gemma && act == "gelu")) {
    c.activation = GluKind::kGeGlu;
  } else {
    fail(
        ErrorKind::kUnsupported,
        "config.json: activation '",
        act,
        "' is not supported (silu, gelu_pytorch_tanh)");
  }
  c.embedding_scale = gemma ? static_cast<float>(std::sqrt(static_cast<double>(c.dim))) : 1.0f;
  c.bos_id = detail::config_token_id(j, "bos_token_id", defaults.bos_id);
  c.eos_id = detail::config_token_id(j, "eos_token_id", defaults.eos_id);
  require(
      detail::member(j, "rope_scaling") == nullptr,
      ErrorKind::kUnsupported,
      "config.json: rope_scaling is not supported");
  require(
      !detail::config_bool(j, "attention_bias", false) &&
          !detail::config_bool(j, "mlp_bias", false),
      ErrorKind::kUnsupported,
      "config.json: attention_bias / mlp_bias are not supported");
  return c;
}

//! Reads and parses `path` (a config.json file). kIo if unreadable.
inline llama::Config load_hf_config(std::filesystem::path const& path) {
  auto const bytes = detail::read_file(path, std::int64_t{16} << 20);
  return parse_hf_config(detail::as_chars(bytes));
}

//! Parses model.safetensors.index.json: tensor name -> shard file name.
//! Shard names must be plain file names (no directories), as transformers writes them.
inline std::map<std::string, std::string> parse_hf_index(std::string_view json_text) {
  auto const j = detail::parse_json(json_text, "model.safetensors.index.json");
  require(j.is_object(), ErrorKind::kFormat, "model.safetensors.index.json: not a JSON object");
  auto const* map = detail::member(j, "weight_map");
  require(
      map != nullptr && map->is_object(),
      ErrorKind::kFormat,
      "model.safetensors.index.json: missing 'weight_map' object");
  std::map<std::string, std::string> out;
  for (auto const& [name, file] : map->items()) {
    require(
        file.is_string(),
        ErrorKind::kFormat,
        "model.safetensors.index.json: weight_map['",
        name,
        "'] is not a string");
    auto const& f = file.get_ref<std::string const&>();
    std::filesystem::path const p(f);
    require(
        !f.empty() && p.has_filename() && p.filename() == p && f != "." && f != "..",
        ErrorKind::kFormat,
        "model.safetensors.index.json: shard '",
        f,
        "' is not a plain file name");
    out.emplace(name, f);
  }
  return out;
}

namespace detail {

//! Tensor lookup over one or more safetensors files.
class HfTensors {
public:
  explicit HfTensors(std::filesystem::path const& dir) {
    auto const single = dir / "model.safetensors";
    auto const index = dir / "model.safetensors.index.json";
    if (std::filesystem::exists(index)) {
      auto const bytes = read_file(index, std::int64_t{256} << 20);
      auto const map = parse_hf_index(as_chars(bytes));
      for (auto const& [name, file] : map) {
        auto it = files_.find(file);
        if (it == files_.end()) {
          it = files_.emplace(file, Safetensors::open(dir / file)).first;
        }
        where_.emplace(name, &it->second);
      }
    } else {
      require(
          std::filesystem::exists(single),
          ErrorKind::kIo,
          "'",
          dir.string(),
          "' has neither model.safetensors nor model.safetensors.index.json");
      auto& st = files_.emplace("model.safetensors", Safetensors::open(single)).first->second;
      for (auto const& t : st.tensors()) {
        where_.emplace(t.name, &st);
      }
    }
  }

  //! Number of tensor names known.
  [[nodiscard]] std::size_t size() const noexcept { return where_.size(); }

  [[nodiscard]] bool contains(std::string const& name) const {
    auto it = where_.find(name);
    return it != where_.end() && it->second->contains(name);
  }

  //! The tensor as float after checking its shape.
  std::vector<float> get(std::string const& name, std::vector<std::int64_t> const& shape) const {
    auto it = where_.find(name);
    require(it != where_.end(), ErrorKind::kFormat, "checkpoint: missing tensor '", name, "'");
    auto const& st = *it->second;
    auto const* info = st.find(name);
    require(
        info != nullptr,
        ErrorKind::kFormat,
        st.source(),
        ": missing tensor '",
        name,
        "' (listed in the index)");
    require(
        info->shape == shape,
        ErrorKind::kShape,
        st.source(),
        ": tensor '",
        name,
        "' has shape ",
        shape_string(info->shape),
        ", expected ",
        shape_string(shape),
        " from config.json");
    return st.to_float(*info);
  }

private:
  std::map<std::string, Safetensors> files_;
  std::map<std::string, Safetensors const*> where_;
};

}  // namespace detail

//! Loads a Hugging Face checkpoint directory into llama::Weights.
//! - Reads config.json (parse_hf_config), then model.safetensors or the shards named in
//!   model.safetensors.index.json; F32 / F16 / BF16 tensors become float.
//! - Every tensor's shape is checked against the config (kShape naming the tensor, the
//!   expected and the actual shape); missing tensors give one kFormat error naming them.
//! - Gemma: (1 + w) is folded into the three RMSNorm weights.
//! - Mixtral: each layer's FFN is `block_sparse_moe.gate.weight` (the router, (experts, dim),
//!   kept float) and `block_sparse_moe.experts.E.w1 / w3 / w2` (gate, up, down) for every
//!   expert E, instead of `mlp.*_proj`.
//! - lm_head.weight is read only when tie_word_embeddings is false.
inline llama::Weights load_hf(std::filesystem::path const& dir) {
  llama::Weights w;
  w.config = load_hf_config(dir / "config.json");
  auto const& c = w.config;
  detail::HfTensors const tensors(dir);

  std::int64_t const dim = c.dim;
  std::int64_t const hidden = c.hidden_dim;
  std::int64_t const q_dim = detail::checked_mul(c.n_heads, c.head_dim, "q_proj rows");
  std::int64_t const kv_dim = detail::checked_mul(c.n_kv_heads, c.head_dim, "k_proj rows");
  std::int64_t const vocab = c.vocab_size;

  // Bound the bookkeeping below by what the files can hold (each layer needs 9 tensors, a
  // MoE layer 3 per expert and more; a shortfall is then reported tensor by tensor).
  std::int64_t const per_layer = c.n_experts == 0 ? 1 : std::int64_t{c.n_experts} * 3;
  auto const held = static_cast<std::int64_t>(tensors.size());
  require(
      per_layer <= held && c.n_layers <= held / per_layer,
      ErrorKind::kFormat,
      dir.string(),
      ": config.json says ",
      c.n_layers,
      " layers",
      c.n_experts > 0 ? " of " + std::to_string(c.n_experts) + " experts" : std::string(),
      " but the checkpoint holds only ",
      tensors.size(),
      " tensors");

  struct Want {
    std::string name;
    std::vector<std::int64_t> shape;
    std::vector<float>* out;
  };
  std::vector<Want> wants;
  wants.push_back({"model.embed_tokens.weight", {vocab, dim}, &w.embedding});
  w.layers.resize(static_cast<std::size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    auto& L = w.layers[static_cast<std::size_t>(l)];
    std::string const p = "model.layers." + std::to_string(l) + ".";
    wants.push_back({p + "input_layernorm.weight", {dim}, &L.attn_norm});
    wants.push_back({p + "self_attn.q_proj.weight", {q_dim, dim}, &L.wq});
    wants.push_back({p + "self_attn.k_proj.weight", {kv_dim, dim}, &L.wk});
    wants.push_back({p + "self_attn.v_proj.weight", {kv_dim, dim}, &L.wv});
    wants.push_back({p + "self_attn.o_proj.weight", {dim, q_dim}, &L.wo});
    wants.push_back({p + "post_attention_layernorm.weight", {dim}, &L.ffn_norm});
    if (c.n_experts == 0) {
      wants.push_back({p + "mlp.gate_proj.weight", {hidden, dim}, &L.w_gate});
      wants.push_back({p + "mlp.up_proj.weight", {hidden, dim}, &L.w_up});
      wants.push_back({p + "mlp.down_proj.weight", {dim, hidden}, &L.w_down});
      continue;
    }
    std::string const moe = p + "block_sparse_moe.";
    wants.push_back({moe + "gate.weight", {c.n_experts, dim}, &L.router});
    L.experts.resize(static_cast<std::size_t>(c.n_experts));
    for (int e = 0; e < c.n_experts; ++e) {
      auto& E = L.experts[static_cast<std::size_t>(e)];
      std::string const x = moe + "experts." + std::to_string(e) + ".";
      wants.push_back({x + "w1.weight", {hidden, dim}, &E.w_gate});
      wants.push_back({x + "w3.weight", {hidden, dim}, &E.w_up});
      wants.push_back({x + "w2.weight", {dim, hidden}, &E.w_down});
    }
  }
  wants.push_back({"model.norm.weight", {dim}, &w.final_norm});
  if (!c.tied_embeddings) {
    wants.push_back({"lm_head.weight", {vocab, dim}, &w.lm_head});
  }

  std::string missing;
  int n_missing = 0;
  for (auto const& want : wants) {
    if (!tensors.contains(want.name)) {
      if (n_missing++ < 8) {
        missing += (missing.empty() ? "'" : ", '") + want.name + "'";
      }
    }
  }
  require(
      n_missing == 0,
      ErrorKind::kFormat,
      dir.string(),
      ": ",
      n_missing,
      " missing tensor(s): ",
      missing,
      n_missing > 8 ? ", ..." : "");

  for (auto const& want : wants) {
    *want.out = tensors.get(want.name, want.shape);
  }
  if (c.family == "gemma") {
    auto const fold = [](std::vector<float>& v) {
      for (float& x : v) {
        x = 1.0f + x;
      }
    };
    for (auto& L : w.layers) {
      fold(L.attn_norm);
      fold(L.ffn_norm);
    }
    fold(w.final_norm);
  }
  return w;
}

}  // namespace spikequant::v0::io
