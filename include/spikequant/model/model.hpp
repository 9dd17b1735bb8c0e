// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama::Model: the reference LLaMA forward (embedding, RMSNorm, RoPE, grouped-query
//! causal attention over a KV cache, SwiGLU/GeGLU FFN or Mixtral's sparse MoE FFN, lm_head)
//! where every linear module runs through a QuantPlan, with observer and modify hooks for
//! calibration.
//!
//! Scope: one readable CPU forward that serves fp32, W8A16 and every W8A8 scheme (and the
//! optional BMM quantization of q/k/v, QuantPlan::bmm), batched prefill and token-by-token
//! decode through the same code path, Mistral's sliding-window
//! attention and Mixtral's top-k expert routing included. Non-goals: speed, Gemma 2's
//! attention soft-capping.
#pragma once

#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/exclude.hpp"
#include "spikequant/core/linear_mode.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/cpu/glu.hpp"
#include "spikequant/cpu/linear.hpp"
#include "spikequant/cpu/quantize.hpp"
#include "spikequant/cpu/rmsnorm.hpp"
#include "spikequant/model/attention.hpp"
#include "spikequant/model/config.hpp"
#include "spikequant/model/forward_hooks.hpp"
#include "spikequant/model/kv_cache.hpp"
#include "spikequant/model/model_checks.hpp"
#include "spikequant/model/moe_routing.hpp"
#include "spikequant/model/quant_plan.hpp"
#include "spikequant/model/weights.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace spikequant::inline v0::llama {

//! The reference model: float weights, lazily quantized INT8 weights, and a plan.
//! - Thread safety: forward is const and may run concurrently on different caches; the lazy
//!   weight quantization is guarded by a mutex.
//! - Move-only (the quantized weights are cached per model).
class Model {
public:
  //! Takes the weights (validated against their config) and a plan (default: all float).
  explicit Model(Weights weights, QuantPlan plan = {})
      : weights_(std::move(weights))
      , plan_(std::move(plan))
      , qcache_(std::make_unique<QCache>()) {
    validate_weights(weights_);
  }

  [[nodiscard]] Config const& config() const noexcept { return weights_.config; }
  [[nodiscard]] Weights const& weights() const noexcept { return weights_; }
  //! Mutable weights (SmoothQuant folding, experiments); drops every cached INT8 weight so
  //! the next quantized forward re-quantizes. Sizes must stay as they are.
  [[nodiscard]] Weights& mutable_weights() {
    std::scoped_lock lock(qcache_->mutex);
    qcache_->weights.clear();
    return weights_;
  }

  [[nodiscard]] QuantPlan const& plan() const noexcept { return plan_; }
  void set_plan(QuantPlan plan) { plan_ = std::move(plan); }

  //! Every linear module, layer by layer in block order q, k, v, o, then gate, up, down of
  //! the dense FFN or, in a MoE model, of expert 0, expert 1, ... (ModuleId::expert). The
  //! MoE router is not a module: it always runs in float.
  [[nodiscard]] std::vector<ModuleId> module_ids() const {
    constexpr std::array<ModuleKind, 4> attn = {
        ModuleKind::kQ, ModuleKind::kK, ModuleKind::kV, ModuleKind::kO};
    constexpr std::array<ModuleKind, 3> ffn = {
        ModuleKind::kGate, ModuleKind::kUp, ModuleKind::kDown};
    int const n_ffn = std::max(config().n_experts, 1);
    std::vector<ModuleId> ids;
    ids.reserve(static_cast<std::size_t>(config().n_layers) * (4 + 3 * n_ffn));
    for (int l = 0; l < config().n_layers; ++l) {
      for (ModuleKind k : attn) {
        ids.push_back({l, k, -1});
      }
      for (int e = 0; e < n_ffn; ++e) {
        for (ModuleKind k : ffn) {
          ids.push_back({l, k, config().n_experts > 0 ? e : -1});
        }
      }
    }
    return ids;
  }
  //! module_ids() as ModuleInfo with ratio NaN (fill ratios from calibration).
  [[nodiscard]] std::vector<ModuleInfo> module_infos() const {
    std::vector<ModuleInfo> infos;
    for (ModuleId const& id : module_ids()) {
      infos.push_back(ModuleInfo{id});
    }
    return infos;
  }
  //! (out_features, in_features) of a module.
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> module_shape(ModuleId const& id) const {
    check_module(config(), id);
    Config const& c = config();
    std::int64_t const q_dim = std::int64_t{c.n_heads} * c.head_dim;
    std::int64_t const kv_dim = std::int64_t{c.n_kv_heads} * c.head_dim;
    switch (id.kind) {
    case ModuleKind::kQ:
      return {q_dim, c.dim};
    case ModuleKind::kK:
    case ModuleKind::kV:
      return {kv_dim, c.dim};
    case ModuleKind::kO:
      return {c.dim, q_dim};
    case ModuleKind::kGate:
    case ModuleKind::kUp:
      return {c.hidden_dim, c.dim};
    case ModuleKind::kDown:
      return {c.dim, c.hidden_dim};
    }
    return {0, 0};
  }
  //! The float weight of a module, (out_features, in_features) row-major.
  [[nodiscard]] MatrixRef<float const> weight(ModuleId const& id) const {
    auto const [out, in] = module_shape(id);
    LayerWeights const& lw = weights_.layers[static_cast<std::size_t>(id.layer)];
    if (id.is_expert()) {
      ExpertWeights const& ew = lw.experts[static_cast<std::size_t>(id.expert)];
      std::vector<float> const& w = id.kind == ModuleKind::kGate ? ew.w_gate
                                    : id.kind == ModuleKind::kUp ? ew.w_up
                                                                 : ew.w_down;
      return {w.data(), out, in, in};
    }
    std::vector<float> const* w = nullptr;
    switch (id.kind) {
    case ModuleKind::kQ:
      w = &lw.wq;
      break;
    case ModuleKind::kK:
      w = &lw.wk;
      break;
    case ModuleKind::kV:
      w = &lw.wv;
      break;
    case ModuleKind::kO:
      w = &lw.wo;
      break;
    case ModuleKind::kGate:
      w = &lw.w_gate;
      break;
    case ModuleKind::kUp:
      w = &lw.w_up;
      break;
    case ModuleKind::kDown:
      w = &lw.w_down;
      break;
    }
    return {w->data(), out, in, in};
  }
  //! The per-channel INT8 weight of a module (MoE experts included), quantized on first use
  //! and then cached.
  [[nodiscard]] cpu::QuantizedWeight const& quantized_weight(ModuleId const& id) const {
    check_module(config(), id);
    std::scoped_lock lock(qcache_->mutex);
    auto it = qcache_->weights.find(id);
    if (it == qcache_->weights.end()) {
      it = qcache_->weights.emplace(id, cpu::quantize_weight(weight(id))).first;
    }
    return it->second;
  }

  //! An empty KV cache with room for `capacity` positions (default: config().max_seq_len).
  [[nodiscard]] KVCache make_cache(int capacity = -1) const {
    return KVCache(config(), capacity < 0 ? std::max(config().max_seq_len, 1) : capacity);
  }

  //! Throws Error(kInvalidArgument) naming the first token id outside [0, vocab_size).
  void check_tokens(std::span<int const> tokens) const {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      require(
          tokens[i] >= 0 && tokens[i] < config().vocab_size,
          ErrorKind::kInvalidArgument,
          "token id ",
          tokens[i],
          " at index ",
          i,
          " is outside the vocabulary of ",
          config().vocab_size,
          " tokens");
    }
  }

  //! The one linear dispatch: y = x W^T for module `id`, run as `plan` says. A CUDA backend
  //! replaces this function only.
  //! @param[in]  x (tokens, in_features) float
  //! @param[out] y (tokens, out_features) float
  void
  linear(ModuleId const& id, MatrixRef<float const> x, MatrixRef<float> y, QuantPlan const& plan)
      const {
    ModuleQuant const q = plan.get(id);
    switch (q.mode) {
    case LinearMode::kFloat:
      cpu::linear_float(x, weight(id), {}, y);
      return;
    case LinearMode::kW8A16:
      cpu::linear_w8a16(x, quantized_weight(id), {}, y);
      return;
    case LinearMode::kW8A8:
      require(
          q.act != ActScheme::kStatic || q.static_scale > 0.0f,
          ErrorKind::kInvalidArgument,
          "module ",
          short_name(id),
          " runs w8a8-static but has no calibrated scale (calibrate_static_scales)");
      cpu::linear_w8a8(x, quantized_weight(id), q.act, q.static_scale, {}, y);
      return;
    }
  }

  //! Runs `tokens` at positions cache.length() .. cache.length() + T - 1, appends their keys
  //! and values to `cache` and writes logits.
  //! - Batched prefill (T > 1) and decode (T == 1) are the same code path.
  //! - `logits`: (T, vocab) for every position, (1, vocab) for the last position only, or an
  //!   empty ref (data == nullptr) for none.
  //! - Throws Error(kInvalidArgument) for an empty `tokens`, a token id outside the vocabulary,
  //!   or cache.length() + T > cache.capacity(); Error(kShape) for a wrong logits shape.
  //! @param[in]     tokens T token ids
  //! @param[in,out] cache  keys/values of earlier positions; length grows by T
  //! @param[out]    logits (T or 1, vocab_size) float, or empty
  void forward(
      std::span<int const> tokens,
      KVCache& cache,
      MatrixRef<float> logits,
      ForwardOptions const& options = {}) const {
    Config const& c = config();
    auto const t_count = static_cast<std::int64_t>(tokens.size());
    require(t_count > 0, ErrorKind::kInvalidArgument, "forward: no tokens");
    check_tokens(tokens);
    require(
        cache.n_layers() == c.n_layers && cache.kv_dim() == c.n_kv_heads * c.head_dim,
        ErrorKind::kInvalidArgument,
        "forward: the KV cache was made for another model");
    require(
        cache.length() + t_count <= cache.capacity(),
        ErrorKind::kInvalidArgument,
        "forward: ",
        cache.length(),
        " cached + ",
        t_count,
        " new positions exceed the KV cache capacity ",
        cache.capacity());
    bool const want_logits = logits.data != nullptr;
    require(
        !want_logits ||
            ((logits.rows == t_count || logits.rows == 1) && logits.cols == c.vocab_size),
        ErrorKind::kShape,
        "forward: logits are (",
        logits.rows,
        ", ",
        logits.cols,
        "), expected (",
        t_count,
        " or 1, ",
        c.vocab_size,
        ")");
    QuantPlan const& plan = options.plan != nullptr ? *options.plan : plan_;
    int const last_layer = options.stop_after_layer < 0
                               ? c.n_layers - 1
                               : std::min(options.stop_after_layer, c.n_layers - 1);

    std::int64_t const dim = c.dim;
    std::int64_t const hd = c.head_dim;
    std::int64_t const q_dim = std::int64_t{c.n_heads} * hd;
    std::int64_t const kv_dim = std::int64_t{c.n_kv_heads} * hd;
    std::int64_t const hidden = c.hidden_dim;
    int const start = cache.length();

    Buffer x(t_count, dim);        // (T, dim) residual stream
    Buffer xb(t_count, dim);       // (T, dim) norm output: input of q/k/v and gate/up
    Buffer q(t_count, q_dim);      // (T, n_heads * hd)
    Buffer k(t_count, kv_dim);     // (T, n_kv_heads * hd)
    Buffer v(t_count, kv_dim);     // (T, n_kv_heads * hd)
    Buffer att(t_count, q_dim);    // (T, n_heads * hd) attention output: input of o
    Buffer proj(t_count, dim);     // (T, dim) output of o / down (MoE: the weighted sum)
    Buffer gate(t_count, hidden);  // (T, hidden)
    Buffer up(t_count, hidden);    // (T, hidden)
    Buffer act(t_count, hidden);   // (T, hidden) GLU product: input of down

    // Embedding (* embedding_scale; Gemma: sqrt(dim)).
    for (std::int64_t t = 0; t < t_count; ++t) {
      float const* e = weights_.embedding.data() +
                       static_cast<std::ptrdiff_t>(tokens[static_cast<std::size_t>(t)]) * dim;
      for (std::int64_t j = 0; j < dim; ++j) {
        x.ref()(t, j) = e[j] * c.embedding_scale;
      }
    }

    Runner run{*this, plan, options, ForwardContext{0, start, tokens, {}}};
    for (int l = 0; l <= last_layer; ++l) {
      LayerWeights const& lw = weights_.layers[static_cast<std::size_t>(l)];
      run.ctx.layer = l;
      // Attention block.
      cpu::rmsnorm(x.ref(), lw.attn_norm, c.norm_eps, xb.ref());
      run.group(
          l,
          ModuleKind::kQ,
          xb.ref(),
          {{ModuleKind::kQ, q.ref()}, {ModuleKind::kK, k.ref()}, {ModuleKind::kV, v.ref()}});
      if (auto const bmm = plan.bmm()) {
        // BMM quantization: the attention products see dequantized int8 q, k, v (before RoPE,
        // so the cache holds them too), one dynamic scale per tensor or per row.
        bmm_fake_quantize(*bmm, q.ref());
        bmm_fake_quantize(*bmm, k.ref());
        bmm_fake_quantize(*bmm, v.ref());
      }
      apply_rope(c, q.ref(), c.n_heads, start);
      apply_rope(c, k.ref(), c.n_kv_heads, start);
      for (std::int64_t t = 0; t < t_count; ++t) {
        std::copy_n(k.ref().row(t), kv_dim, cache.key(l, start + static_cast<int>(t)));
        std::copy_n(v.ref().row(t), kv_dim, cache.value(l, start + static_cast<int>(t)));
      }
      attention(c, q.ref(), cache, l, start, att.ref());
      run.group(l, ModuleKind::kO, att.ref(), {{ModuleKind::kO, proj.ref()}});
      cpu::as_eigen(x.ref()) += cpu::as_eigen(MatrixRef<float const>(proj.ref()));
      // FFN block.
      cpu::rmsnorm(x.ref(), lw.ffn_norm, c.norm_eps, xb.ref());
      if (c.n_experts == 0) {
        run.group(
            l,
            ModuleKind::kUp,
            xb.ref(),
            {{ModuleKind::kGate, gate.ref()}, {ModuleKind::kUp, up.ref()}});
        cpu::glu(config().activation, gate.ref(), up.ref(), act.ref());
        run.group(l, ModuleKind::kDown, act.ref(), {{ModuleKind::kDown, proj.ref()}});
      } else {
        moe_ffn(run, lw, xb.ref(), proj.ref());
      }
      cpu::as_eigen(x.ref()) += cpu::as_eigen(MatrixRef<float const>(proj.ref()));
    }
    if (last_layer < c.n_layers - 1) {
      return;  // early stop: the cache rows of later layers were not written
    }
    cache.advance(static_cast<int>(t_count));
    if (!want_logits) {
      return;
    }
    // Final norm and lm_head on the rows whose logits are wanted.
    std::int64_t const first_row = logits.rows == t_count ? 0 : t_count - 1;
    MatrixRef<float const> const rows{x.ref().row(first_row), logits.rows, dim, dim};
    Buffer normed(logits.rows, dim);
    cpu::rmsnorm(rows, weights_.final_norm, c.norm_eps, normed.ref());
    std::vector<float> const& head = c.tied_embeddings ? weights_.embedding : weights_.lm_head;
    cpu::linear_float(normed.ref(), {head.data(), c.vocab_size, dim, dim}, {}, logits);
  }

  //! forward() returning the logits of the last position (vocab_size floats).
  [[nodiscard]] std::vector<float> forward_last(
      std::span<int const> tokens, KVCache& cache, ForwardOptions const& options = {}) const {
    std::vector<float> out(static_cast<std::size_t>(config().vocab_size));
    forward(tokens, cache, {out.data(), 1, config().vocab_size, config().vocab_size}, options);
    return out;
  }

  //! forward() returning the logits of every position, (T, vocab_size) row-major.
  [[nodiscard]] std::vector<float> forward_all(
      std::span<int const> tokens, KVCache& cache, ForwardOptions const& options = {}) const {
    auto const t = static_cast<std::int64_t>(tokens.size());
    std::vector<float> out(static_cast<std::size_t>(t * config().vocab_size));
    forward(tokens, cache, {out.data(), t, config().vocab_size, config().vocab_size}, options);
    return out;
  }

private:
  struct QCache {
    std::mutex mutex;
    std::map<ModuleId, cpu::QuantizedWeight> weights;
  };

  //! An owned (rows, cols) row-major float matrix.
  struct Buffer {
    std::vector<float> data;
    std::int64_t rows;
    std::int64_t cols;
    Buffer(std::int64_t r, std::int64_t c)
        : data(static_cast<std::size_t>(r * c))
        , rows(r)
        , cols(c) {}
    [[nodiscard]] MatrixRef<float> ref() { return {data.data(), rows, cols, cols}; }
  };

  struct Output {
    ModuleKind kind;
    MatrixRef<float> y;
  };

  //! Runs one sibling group: hook.before (once, representative id), observer (per module),
  //! linear (per module), hook.after (per module). `expert` >= 0: that MoE expert's modules.
  struct Runner {
    Model const& model;
    QuantPlan const& plan;
    ForwardOptions const& options;
    ForwardContext ctx;

    void group(
        int layer,
        ModuleKind rep,
        MatrixRef<float> input,
        std::initializer_list<Output> outs,
        int expert = -1) {
      if (options.hook != nullptr) {
        options.hook->before(ModuleId{layer, rep, expert}, input, ctx);
      }
      for (Output const& o : outs) {
        ModuleId const id{layer, o.kind, expert};
        if (options.observer) {
          options.observer(id, input, ctx);
        }
        model.linear(id, input, o.y, plan);
        if (options.hook != nullptr) {
          options.hook->after(id, o.y, ctx);
        }
      }
    }
  };

  //! Mixtral's sparse MoE FFN (transformers' MixtralSparseMoeBlock) on the FFN-norm output
  //! xb (T, dim), writing out (T, dim):
  //! 1. route_experts() picks experts_per_token experts and their weights per row;
  //! 2. each expert e with routed rows runs on those rows only, gathered in row order, through
  //!    the one linear dispatch as ModuleIds {layer, gate|up|down, e}:
  //!    y_e = down(act(gate(x)) * up(x)) (so a dynamic per-tensor scale spans the routed rows);
  //! 3. out[t] = sum of weight * y_e[t] over the row's experts, in expert order (the order of
  //!    transformers' index_add_). An expert without rows is skipped (no hook, no observer).
  void moe_ffn(
      Runner& run, LayerWeights const& lw, MatrixRef<float const> xb, MatrixRef<float> out) const {
    Config const& c = config();
    std::int64_t const dim = c.dim;
    std::int64_t const hidden = c.hidden_dim;
    Routing const routing = route_experts(c, lw, xb);
    cpu::as_eigen(out).setZero();
    for (int e = 0; e < c.n_experts; ++e) {
      std::vector<int> const& rows = routing.rows[static_cast<std::size_t>(e)];
      std::vector<float> const& weights = routing.weights[static_cast<std::size_t>(e)];
      if (rows.empty()) {
        continue;
      }
      auto const n = static_cast<std::int64_t>(rows.size());
      Buffer xe(n, dim);       // (n, dim) the routed rows of xb: input of gate/up
      Buffer gate(n, hidden);  // (n, hidden)
      Buffer up(n, hidden);    // (n, hidden)
      Buffer act(n, hidden);   // (n, hidden) GLU product: input of down
      Buffer ye(n, dim);       // (n, dim) output of down
      for (std::int64_t r = 0; r < n; ++r) {
        std::copy_n(xb.row(rows[static_cast<std::size_t>(r)]), dim, xe.ref().row(r));
      }
      run.ctx.rows = rows;
      run.group(
          run.ctx.layer,
          ModuleKind::kUp,
          xe.ref(),
          {{ModuleKind::kGate, gate.ref()}, {ModuleKind::kUp, up.ref()}},
          e);
      cpu::glu(config().activation, gate.ref(), up.ref(), act.ref());
      run.group(run.ctx.layer, ModuleKind::kDown, act.ref(), {{ModuleKind::kDown, ye.ref()}}, e);
      run.ctx.rows = {};
      for (std::int64_t r = 0; r < n; ++r) {
        float const w = weights[static_cast<std::size_t>(r)];
        float* o = out.row(rows[static_cast<std::size_t>(r)]);
        float const* y = ye.ref().row(r);
        for (std::int64_t j = 0; j < dim; ++j) {
          o[j] += w * y[j];
        }
      }
    }
  }

  Weights weights_;
  QuantPlan plan_;
  std::unique_ptr<QCache> qcache_;
};

}  // namespace spikequant::v0::llama
