// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Recipe: what calibration decided (QFeM exclusions and alpha, QFeP prefix, static
//! scales, SmoothQuant factors, scheme, model identity) as JSON, and its export as the
//! `ignore` list / `quantization_config` that vLLM and llm-compressor read. Host only;
//! needs nlohmann-json (Debian nlohmann-json3-dev).
//!
//! Recipe format (version 1), every key required unless marked optional:
//! @code{.json}
//! {
//!   "format": "spikequant-recipe", "version": 1,
//!   "model": {"path": "stories260K.bin", "hash": "fnv1a64:0123456789abcdef"},
//!   "scheme": "w8a8-per-tensor",               // w8a8-per-token | w8a8-per-tensor | w8a8-static
//!   "bmm": "per-tensor",                       // optional (absent or null: off);
//!                                              // off | per-tensor | per-token (QuantPlan::bmm)
//!   "qfem": {"alpha": 6.68,                    // optional; null: not from a threshold
//!            "excluded": ["model.layers.1.mlp.down_proj"]},  // W8A16 modules (HF names)
//!   "qfep": {"prefix_ids": [1, 403, 29889], "prefix_text": " all."},  // optional
//!   "static_scales": {"model.layers.0.self_attn.q_proj": 0.0123},   // absmax / 127
//!   "smoothquant": {"alpha": 0.8, "layers": [{"layer": 0, "attn": [..dim..], "ffn": []}]},
//!                                              // optional; [] means "not smoothed"
//!   "plant_spikes": {"factor": 1000, "token": 29889, "bos_id": 1, "layers": [0, 4]}
//!                                              // optional; the planted-spike hook in effect
//! }
//! @endcode
//! `static_scales` holds every module's scale when the scheme is w8a8-static (what the
//! evaluation ran with), else it may be empty. Floats are written with enough digits to read
//! back bit-identical. `check_recipe_fits` checks a recipe against a model's shape.
//! Export (`export_quantization_config`): compressed-tensors' `quantization_config`, W8A8
//! INT8 symmetric, per-channel weights, activations per token (AQ1) or per tensor
//! (AQ2 dynamic, AQ3 static), with `ignore` = lm_head + the excluded modules. Note: vLLM runs
//! ignored modules unquantized (16-bit weights), not W8A16 as spikequant's QFeM does; the
//! QFeP prefix and SmoothQuant factors have no field there (fold the factors into the
//! checkpoint; prepend the prefix in the serving code). io/compressed_tensors_export.hpp writes
//! the whole checkpoint (weights, scales, this config) and refuses AQ2, which vLLM cannot serve.
#pragma once

#include "spikequant/calib/plant_spikes.hpp"
#include "spikequant/calib/smoothquant.hpp"
#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/model/quant_plan.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace spikequant::inline v0::calib {

//! What calibration decided, enough to rebuild the quantized model.
struct Recipe {
  std::string model_path;
  std::string model_hash;  //!< "fnv1a64:<16 hex digits>" of the model file (file_hash)
  ActScheme scheme = ActScheme::kPerTensor;
  std::optional<ActScheme> bmm;  //!< BMM quantization of q/k/v (QuantPlan::bmm); nullopt: off
  std::optional<double> alpha;   //!< QFeM threshold, when the exclusions came from one
  std::set<ModuleId> excluded;   //!< W8A16 modules (siblings included)
  std::vector<int> prefix_ids;   //!< QFeP prefix [BOS, t, c]; empty: none
  std::string prefix_text;
  std::map<ModuleId, float> static_scales;  //!< per module, absmax / 127
  std::optional<Smoothing> smoothing;
  std::optional<PlantSpikesOptions> plant_spikes;  //!< planted spikes in effect (layers resolved)

  friend bool operator==(Recipe const&, Recipe const&) = default;
};

//! FNV-1a 64-bit hash of a file's bytes as "fnv1a64:<hex>" (identity check, not security).
inline std::string file_hash(std::filesystem::path const& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), ErrorKind::kIo, "file_hash: cannot open ", path.string());
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<std::uint64_t>(static_cast<unsigned char>(buf[i]));
      h *= 1099511628211ull;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return std::string("fnv1a64:") + hex;
}

namespace detail {
inline ModuleId parse_module_name(std::string const& name, char const* where) {
  auto id = parse_hf_name(name);
  require(
      id.has_value(), ErrorKind::kFormat, "recipe: ", where, ": '", name, "' is not a module name");
  return *id;
}
inline nlohmann::json const& need(nlohmann::json const& j, char const* key, char const* where) {
  require(
      j.is_object() && j.contains(key),
      ErrorKind::kFormat,
      "recipe: ",
      where,
      ": missing key '",
      key,
      "'");
  return j.at(key);
}
inline std::vector<float> float_array(nlohmann::json const& j, char const* where) {
  require(j.is_array(), ErrorKind::kFormat, "recipe: ", where, " must be an array");
  std::vector<float> v;
  for (auto const& e : j) {
    require(e.is_number(), ErrorKind::kFormat, "recipe: ", where, " holds a non-number");
    float const f = e.get<float>();
    require(
        is_finite(f) && f > 0.0f,
        ErrorKind::kFormat,
        "recipe: ",
        where,
        " holds ",
        f,
        " (need finite > 0)");
    v.push_back(f);
  }
  return v;
}
}  // namespace detail

//! The recipe as JSON (format in the file comment).
inline nlohmann::json to_json(Recipe const& r) {
  using nlohmann::json;
  json j;
  j["format"] = "spikequant-recipe";
  j["version"] = 1;
  j["model"] = {{"path", r.model_path}, {"hash", r.model_hash}};
  j["scheme"] = std::string(to_string(r.scheme));
  j["bmm"] = std::string(llama::bmm_name(r.bmm));
  json excluded = json::array();
  for (auto const& id : r.excluded) {
    excluded.push_back(hf_name(id));
  }
  j["qfem"] = {{"alpha", r.alpha ? json(*r.alpha) : json(nullptr)}, {"excluded", excluded}};
  if (!r.prefix_ids.empty()) {
    j["qfep"] = {{"prefix_ids", r.prefix_ids}, {"prefix_text", r.prefix_text}};
  } else {
    j["qfep"] = nullptr;
  }
  json scales = json::object();
  for (auto const& [id, s] : r.static_scales) {
    scales[hf_name(id)] = s;
  }
  j["static_scales"] = scales;
  if (r.smoothing) {
    json layers = json::array();
    for (std::size_t l = 0; l < r.smoothing->layers.size(); ++l) {
      layers.push_back(
          {{"layer", l},
           {"attn", r.smoothing->layers[l].attn},
           {"ffn", r.smoothing->layers[l].ffn}});
    }
    j["smoothquant"] = {{"alpha", r.smoothing->alpha}, {"layers", layers}};
  } else {
    j["smoothquant"] = nullptr;
  }
  if (r.plant_spikes) {
    j["plant_spikes"] = {
        {"factor", r.plant_spikes->factor},
        {"token", r.plant_spikes->token},
        {"bos_id", r.plant_spikes->bos_id},
        {"layers", r.plant_spikes->layers}};
  } else {
    j["plant_spikes"] = nullptr;
  }
  return j;
}

//! Reads and validates a recipe; throws Error(kFormat) naming the offending key.
inline Recipe recipe_from_json(nlohmann::json const& j) {
  using detail::need;
  require(j.is_object(), ErrorKind::kFormat, "recipe: top level must be an object");
  require(
      need(j, "format", "top level") == "spikequant-recipe",
      ErrorKind::kFormat,
      "recipe: format must be \"spikequant-recipe\"");
  auto const& ver = need(j, "version", "top level");
  require(
      ver.is_number_integer() && ver.get<int>() == 1,
      ErrorKind::kFormat,
      "recipe: unsupported version ",
      ver.dump());
  Recipe r;
  auto const& model = need(j, "model", "top level");
  auto const& path = need(model, "path", "model");
  auto const& hash = need(model, "hash", "model");
  require(
      path.is_string() && hash.is_string(),
      ErrorKind::kFormat,
      "recipe: model.path and model.hash must be strings");
  r.model_path = path.get<std::string>();
  r.model_hash = hash.get<std::string>();
  auto const& scheme = need(j, "scheme", "top level");
  require(scheme.is_string(), ErrorKind::kFormat, "recipe: scheme must be a string");
  try {
    r.scheme = parse_act_scheme(scheme.get<std::string>());
  } catch (Error const& e) {
    fail(ErrorKind::kFormat, "recipe: ", e.what());
  }
  if (auto it = j.find("bmm"); it != j.end() && !it->is_null()) {  // absent in older recipes
    bool ok = it->is_string();
    if (ok) {
      try {
        r.bmm = llama::parse_bmm(it->get<std::string>());
      } catch (Error const&) {
        ok = false;
      }
    }
    require(
        ok,
        ErrorKind::kFormat,
        "recipe: bmm must be \"off\", \"per-tensor\" or \"per-token\", got ",
        it->dump());
  }
  auto const& qfem = need(j, "qfem", "top level");
  auto const& alpha = need(qfem, "alpha", "qfem");
  if (!alpha.is_null()) {
    require(alpha.is_number(), ErrorKind::kFormat, "recipe: qfem.alpha must be a number or null");
    r.alpha = alpha.get<double>();
  }
  auto const& excluded = need(qfem, "excluded", "qfem");
  require(excluded.is_array(), ErrorKind::kFormat, "recipe: qfem.excluded must be an array");
  for (auto const& e : excluded) {
    require(e.is_string(), ErrorKind::kFormat, "recipe: qfem.excluded holds a non-string");
    r.excluded.insert(detail::parse_module_name(e.get<std::string>(), "qfem.excluded"));
  }
  if (auto it = j.find("qfep"); it != j.end() && !it->is_null()) {
    auto const& ids = need(*it, "prefix_ids", "qfep");
    require(
        ids.is_array() && !ids.empty(),
        ErrorKind::kFormat,
        "recipe: qfep.prefix_ids must be a non-empty array");
    for (auto const& e : ids) {
      require(
          e.is_number_integer() && e.get<std::int64_t>() >= 0 &&
              e.get<std::int64_t>() < (std::int64_t{1} << 31),
          ErrorKind::kFormat,
          "recipe: qfep.prefix_ids holds ",
          e.dump(),
          " (need token ids >= 0)");
      r.prefix_ids.push_back(e.get<int>());
    }
    if (auto t = it->find("prefix_text"); t != it->end()) {
      require(t->is_string(), ErrorKind::kFormat, "recipe: qfep.prefix_text must be a string");
      r.prefix_text = t->get<std::string>();
    }
  }
  auto const& scales = need(j, "static_scales", "top level");
  require(scales.is_object(), ErrorKind::kFormat, "recipe: static_scales must be an object");
  for (auto const& [name, v] : scales.items()) {
    require(
        v.is_number(), ErrorKind::kFormat, "recipe: static_scales['", name, "'] is not a number");
    float const s = v.get<float>();
    require(
        is_finite(s) && s > 0.0f,
        ErrorKind::kFormat,
        "recipe: static_scales['",
        name,
        "'] = ",
        s,
        " (need finite > 0)");
    r.static_scales[detail::parse_module_name(name, "static_scales")] = s;
  }
  if (auto it = j.find("smoothquant"); it != j.end() && !it->is_null()) {
    Smoothing sm;
    auto const& a = need(*it, "alpha", "smoothquant");
    require(
        a.is_number() && a.get<double>() >= 0.0 && a.get<double>() <= 1.0,
        ErrorKind::kFormat,
        "recipe: smoothquant.alpha must be a number in [0, 1]");
    sm.alpha = a.get<float>();
    auto const& layers = need(*it, "layers", "smoothquant");
    require(layers.is_array(), ErrorKind::kFormat, "recipe: smoothquant.layers must be an array");
    for (std::size_t l = 0; l < layers.size(); ++l) {
      auto const& e = layers[l];
      auto const& li = need(e, "layer", "smoothquant.layers[]");
      require(
          li.is_number_integer() && li.get<std::int64_t>() == static_cast<std::int64_t>(l),
          ErrorKind::kFormat,
          "recipe: smoothquant.layers[",
          l,
          "].layer must be ",
          l);
      sm.layers.push_back(
          {detail::float_array(need(e, "attn", "smoothquant.layers[]"), "smoothquant attn"),
           detail::float_array(need(e, "ffn", "smoothquant.layers[]"), "smoothquant ffn")});
    }
    r.smoothing = std::move(sm);
  }
  if (auto it = j.find("plant_spikes"); it != j.end() && !it->is_null()) {
    PlantSpikesOptions ps;
    auto const& f = need(*it, "factor", "plant_spikes");
    require(
        f.is_number() && f.get<double>() > 0.0 && f.get<double>() <= 3.0e38,
        ErrorKind::kFormat,
        "recipe: plant_spikes.factor must be a finite float > 0");
    ps.factor = f.get<float>();
    auto int_field = [&](char const* key) {
      auto const& v = need(*it, key, "plant_spikes");
      require(
          v.is_number_integer() && v.get<std::int64_t>() >= 0 &&
              v.get<std::int64_t>() < (std::int64_t{1} << 31),
          ErrorKind::kFormat,
          "recipe: plant_spikes.",
          key,
          " must be an integer >= 0");
      return v.get<int>();
    };
    ps.token = int_field("token");
    ps.bos_id = int_field("bos_id");
    auto const& layers = need(*it, "layers", "plant_spikes");
    require(
        layers.is_array() && !layers.empty(),
        ErrorKind::kFormat,
        "recipe: plant_spikes.layers must be a non-empty array");
    for (auto const& e : layers) {
      require(
          e.is_number_integer() && e.get<std::int64_t>() >= 0 &&
              e.get<std::int64_t>() < (std::int64_t{1} << 31),
          ErrorKind::kFormat,
          "recipe: plant_spikes.layers holds ",
          e.dump(),
          " (need layer indices >= 0)");
      ps.layers.insert(e.get<int>());
    }
    r.plant_spikes = std::move(ps);
  }
  return r;
}

//! Checks that a recipe fits a model: every module it names (excluded, static scales) is one
//! of `modules`, smoothing has `n_layers` entries of `dim` factors (or none), prefix and
//! planted-spike token ids are below `vocab_size`, planted layers below `n_layers`. Throws
//! Error(kFormat) naming the first mismatch.
inline void check_recipe_fits(
    Recipe const& r,
    std::span<ModuleId const> modules,
    int n_layers,
    std::int64_t dim,
    int vocab_size) {
  std::set<ModuleId> const known(modules.begin(), modules.end());
  auto check_module = [&](ModuleId const& id, char const* where) {
    require(
        known.contains(id),
        ErrorKind::kFormat,
        "recipe: ",
        where,
        " names ",
        hf_name(id),
        ", which this model (",
        n_layers,
        " layers) does not have");
  };
  for (auto const& id : r.excluded) {
    check_module(id, "qfem.excluded");
  }
  for (auto const& [id, unused] : r.static_scales) {
    check_module(id, "static_scales");
  }
  for (int id : r.prefix_ids) {
    require(
        id < vocab_size,
        ErrorKind::kFormat,
        "recipe: qfep.prefix_ids holds ",
        id,
        ", outside the vocabulary (",
        vocab_size,
        ")");
  }
  if (r.smoothing) {
    require(
        r.smoothing->layers.size() == static_cast<std::size_t>(n_layers),
        ErrorKind::kFormat,
        "recipe: smoothquant.layers has ",
        r.smoothing->layers.size(),
        " entries, the model has ",
        n_layers,
        " layers");
    for (std::size_t l = 0; l < r.smoothing->layers.size(); ++l) {
      auto const& ls = r.smoothing->layers[l];
      for (auto const* v : {&ls.attn, &ls.ffn}) {
        require(
            v->empty() || static_cast<std::int64_t>(v->size()) == dim,
            ErrorKind::kFormat,
            "recipe: smoothquant.layers[",
            l,
            "].",
            v == &ls.attn ? "attn" : "ffn",
            " has ",
            v->size(),
            " factors, the model's dim is ",
            dim);
      }
    }
  }
  if (r.plant_spikes) {
    require(
        r.plant_spikes->token < vocab_size && r.plant_spikes->bos_id < vocab_size,
        ErrorKind::kFormat,
        "recipe: plant_spikes.token / bos_id outside the vocabulary (",
        vocab_size,
        ")");
    for (int l : r.plant_spikes->layers) {
      require(
          l < n_layers,
          ErrorKind::kFormat,
          "recipe: plant_spikes.layers holds ",
          l,
          ", the model has ",
          n_layers,
          " layers");
    }
  }
}

//! Writes the recipe as indented JSON. Throws Error(kIo) when the file cannot be written.
inline void write_recipe(Recipe const& r, std::filesystem::path const& path) {
  std::ofstream out(path);
  require(out.good(), ErrorKind::kIo, "write_recipe: cannot open ", path.string());
  out << to_json(r).dump(2) << "\n";
  require(out.good(), ErrorKind::kIo, "write_recipe: write failed for ", path.string());
}

//! Reads and validates a recipe file; Error(kIo) / Error(kFormat) on failure.
inline Recipe read_recipe(std::filesystem::path const& path) {
  std::ifstream in(path);
  require(in.good(), ErrorKind::kIo, "read_recipe: cannot open ", path.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (nlohmann::json::exception const& e) {
    fail(ErrorKind::kFormat, "read_recipe: ", path.string(), ": ", e.what());
  }
  return recipe_from_json(j);
}

//! `{"ignore": ["lm_head", <excluded HF names>...]}`, sorted, lm_head first.
inline nlohmann::json export_ignore_list(Recipe const& r) {
  nlohmann::json ignore = nlohmann::json::array({"lm_head"});
  for (auto const& id : r.excluded) {
    ignore.push_back(hf_name(id));
  }
  return {{"ignore", ignore}};
}

//! compressed-tensors `quantization_config` (what llm-compressor writes into config.json and
//! vLLM reads) for this recipe: INT8 W8A8, per-channel weights, activation strategy from
//! the scheme, `ignore` from export_ignore_list.
inline nlohmann::json export_quantization_config(Recipe const& r) {
  bool const per_token = r.scheme == ActScheme::kPerToken;
  bool const dynamic = r.scheme != ActScheme::kStatic;
  nlohmann::json weights = {
      {"num_bits", 8},
      {"type", "int"},
      {"symmetric", true},
      {"strategy", "channel"},
      {"dynamic", false}};
  nlohmann::json acts = {
      {"num_bits", 8},
      {"type", "int"},
      {"symmetric", true},
      {"strategy", per_token ? "token" : "tensor"},
      {"dynamic", dynamic}};
  return {
      {"quantization_config",
       {{"quant_method", "compressed-tensors"},
        {"format", "int-quantized"},
        {"config_groups",
         {{"group_0",
           {{"targets", {"Linear"}}, {"weights", weights}, {"input_activations", acts}}}}},
        {"ignore", export_ignore_list(r).at("ignore")}}}};
}

}  // namespace spikequant::v0::calib
