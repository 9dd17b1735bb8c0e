// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The perplexity protocol of spikequant eval, static-scale calibration over the same
//! windows, and the QFeP prefix (a float KV cache every window starts from).
//!
//! Protocol, exactly:
//! - The token stream is the text tokenized WITHOUT BOS (or a tokens file). `max_tokens > 0`
//!   truncates the stream first.
//! - The stream is cut into consecutive chunks of seq_len - 1 tokens (the last may be shorter).
//! - Each window is BOS + chunk, run as ONE forward on a fresh cache (so dynamic per-tensor
//!   scales span the whole window at each module). Every chunk token is scored: the first from
//!   BOS's logits, token i from the logits of position i (0 = BOS).
//! - With a Prefix, the window is the prefix's cache + chunk at positions offset by the prefix
//!   length; the first chunk token is scored from the prefix's last logits.
//! - NLL per token = -log_softmax(logits)[target] in double; ppl = exp(mean NLL).
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/module.hpp"
#include "spikequant/core/numeric.hpp"
#include "spikequant/model/kv_cache.hpp"
#include "spikequant/model/model.hpp"
#include "spikequant/model/quant_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <vector>

namespace spikequant::inline v0::llama {

//! A quantization-free prefix (QFeP): its token ids (BOS first), the float KV cache after
//! running them, and the logits of its last position (which score a window's first token).
struct Prefix {
  KVCache cache;
  std::vector<float> last_logits;  // vocab_size
  std::vector<int> ids;
};

//! Runs `ids` (BOS first, e.g. {bos, token_of(".")}) on a fresh cache and keeps the cache and
//! last logits. `options.plan` null means float (QFeP keeps the prefix unquantized).
inline Prefix
make_prefix(Model const& model, std::span<int const> ids, ForwardOptions options = {}) {
  require(!ids.empty(), ErrorKind::kInvalidArgument, "make_prefix: empty prefix");
  static QuantPlan const float_plan{};
  if (options.plan == nullptr) {
    options.plan = &float_plan;
  }
  Prefix p;
  p.ids.assign(ids.begin(), ids.end());
  p.cache = model.make_cache(static_cast<int>(ids.size()));
  p.last_logits = model.forward_last(ids, p.cache, options);
  return p;
}

//! -log_softmax(logits)[target], computed in double.
inline double token_nll(std::span<float const> logits, int target) {
  require(
      target >= 0 && static_cast<std::size_t>(target) < logits.size(),
      ErrorKind::kInvalidArgument,
      "token_nll: target ",
      target,
      " outside [0, ",
      logits.size(),
      ")");
  double max_l = -std::numeric_limits<double>::infinity();
  for (float v : logits) {
    max_l = std::max(max_l, static_cast<double>(v));
  }
  double sum = 0.0;
  for (float v : logits) {
    sum += std::exp(static_cast<double>(v) - max_l);
  }
  return -(static_cast<double>(logits[static_cast<std::size_t>(target)]) - max_l - std::log(sum));
}

//! The chunks of the protocol: consecutive spans of seq_len - 1 tokens of `stream` (after
//! truncating it to max_tokens when max_tokens > 0); the last may be shorter.
//! Throws Error(kInvalidArgument) for seq_len < 2 or an empty stream.
inline std::vector<std::span<int const>>
make_chunks(std::span<int const> stream, int seq_len, std::int64_t max_tokens = 0) {
  require(
      seq_len >= 2,
      ErrorKind::kInvalidArgument,
      "seq_len must be >= 2 (BOS + at least one scored token), got ",
      seq_len);
  if (max_tokens > 0 && static_cast<std::int64_t>(stream.size()) > max_tokens) {
    stream = stream.first(static_cast<std::size_t>(max_tokens));
  }
  require(!stream.empty(), ErrorKind::kInvalidArgument, "the token stream is empty");
  std::vector<std::span<int const>> chunks;
  auto const step = static_cast<std::size_t>(seq_len - 1);
  for (std::size_t i = 0; i < stream.size(); i += step) {
    chunks.push_back(stream.subspan(i, std::min(step, stream.size() - i)));
  }
  return chunks;
}

//! The windows of the protocol as token vectors: BOS + chunk (at most `max_windows` of them
//! when max_windows > 0). Used for calibration sets built "the same way".
inline std::vector<std::vector<int>> make_windows(
    std::span<int const> stream,
    int seq_len,
    int bos_id,
    std::int64_t max_windows = 0,
    std::int64_t max_tokens = 0) {
  std::vector<std::vector<int>> windows;
  for (auto chunk : make_chunks(stream, seq_len, max_tokens)) {
    if (max_windows > 0 && static_cast<std::int64_t>(windows.size()) >= max_windows) {
      break;
    }
    std::vector<int> w;
    w.reserve(chunk.size() + 1);
    w.push_back(bos_id);
    w.insert(w.end(), chunk.begin(), chunk.end());
    windows.push_back(std::move(w));
  }
  return windows;
}

struct PerplexityOptions {
  int seq_len = 256;               //!< window length L including BOS (chunks of L - 1 tokens)
  std::int64_t max_tokens = 0;     //!< > 0: truncate the stream to this many tokens first
  ForwardOptions forward = {};     //!< plan (null: the model's), observer, hook
  Prefix const* prefix = nullptr;  //!< QFeP: windows start from this cache instead of BOS
  //! Called after each window with (windows done, windows total).
  std::function<void(std::size_t, std::size_t)> on_window = {};
};

struct PerplexityResult {
  double nll = 0.0;          //!< mean NLL per scored token (nats)
  double ppl = 0.0;          //!< exp(nll)
  std::int64_t tokens = 0;   //!< scored tokens
  std::int64_t windows = 0;  //!< forwards run
};

//! NLL summed over one window's chunk: BOS + chunk (or prefix + chunk) as ONE forward.
//! @return the sum of the chunk tokens' NLL (chunk.size() scored tokens)
inline double window_nll_sum(
    Model const& model,
    std::span<int const> chunk,
    ForwardOptions const& forward,
    Prefix const* prefix = nullptr) {
  require(!chunk.empty(), ErrorKind::kInvalidArgument, "window_nll_sum: empty chunk");
  auto const vocab = static_cast<std::size_t>(model.config().vocab_size);
  auto const n = static_cast<std::int64_t>(chunk.size());
  double sum = 0.0;
  if (prefix == nullptr) {
    std::vector<int> window;
    window.reserve(chunk.size() + 1);
    window.push_back(model.config().bos_id);
    window.insert(window.end(), chunk.begin(), chunk.end());
    KVCache cache = model.make_cache(static_cast<int>(window.size()));
    // Only rows 0..n-1 are needed (row n predicts past the window); computing all is simpler.
    std::vector<float> const logits = model.forward_all(window, cache, forward);
    for (std::int64_t i = 0; i < n; ++i) {
      sum += token_nll(
          std::span<float const>(logits).subspan(static_cast<std::size_t>(i) * vocab, vocab),
          chunk[static_cast<std::size_t>(i)]);
    }
    return sum;
  }
  require(
      prefix->last_logits.size() == vocab,
      ErrorKind::kInvalidArgument,
      "prefix: last_logits has ",
      prefix->last_logits.size(),
      " values, expected vocab_size ",
      vocab);
  KVCache cache = prefix->cache.fork(prefix->cache.length() + static_cast<int>(n));
  sum += token_nll(prefix->last_logits, chunk[0]);
  std::vector<float> const logits = model.forward_all(chunk, cache, forward);
  for (std::int64_t i = 1; i < n; ++i) {
    sum += token_nll(
        std::span<float const>(logits).subspan(static_cast<std::size_t>(i - 1) * vocab, vocab),
        chunk[static_cast<std::size_t>(i)]);
  }
  return sum;
}

//! Perplexity of `stream` under the protocol above.
//! - Throws Error(kInvalidArgument) for seq_len < 2, an empty stream, or an out-of-vocabulary
//!   token id (checked for the whole stream before any forward runs).
inline PerplexityResult
perplexity(Model const& model, std::span<int const> stream, PerplexityOptions const& options = {}) {
  auto const chunks = make_chunks(stream, options.seq_len, options.max_tokens);
  for (auto const& chunk : chunks) {
    model.check_tokens(chunk);
  }
  PerplexityResult r;
  double total = 0.0;
  for (std::size_t w = 0; w < chunks.size(); ++w) {
    total += window_nll_sum(model, chunks[w], options.forward, options.prefix);
    r.tokens += static_cast<std::int64_t>(chunks[w].size());
    ++r.windows;
    if (options.on_window) {
      options.on_window(w + 1, chunks.size());
    }
  }
  r.nll = total / static_cast<double>(r.tokens);
  r.ppl = std::exp(r.nll);
  return r;
}

//! Largest input absmax per module over `windows` (each run as one forward on a fresh cache,
//! or after `prefix` when given), in the plan of `forward.plan` (null: float). Every module
//! gets an entry, siblings included, except MoE experts no token was routed to (over the
//! routed rows only for the others).
inline std::map<ModuleId, float> calibrate_absmax(
    Model const& model,
    std::span<std::vector<int> const> windows,
    ForwardOptions forward = {},
    Prefix const* prefix = nullptr,
    std::function<void(std::size_t, std::size_t)> const& on_window = {}) {
  require(!windows.empty(), ErrorKind::kInvalidArgument, "calibration: no windows");
  static QuantPlan const float_plan{};
  if (forward.plan == nullptr) {
    forward.plan = &float_plan;
  }
  std::map<ModuleId, float> absmax;
  ModuleObserver const user = forward.observer;
  forward.observer =
      [&absmax, &user](ModuleId const& id, MatrixRef<float const> x, ForwardContext const& ctx) {
        float m = 0.0f;
        for (std::int64_t r = 0; r < x.rows; ++r) {
          for (std::int64_t c = 0; c < x.cols; ++c) {
            m = absmax_update(m, x(r, c));
          }
        }
        float& slot = absmax[id];
        slot = absmax_combine(slot, m);
        if (user) {
          user(id, x, ctx);
        }
      };
  for (std::size_t w = 0; w < windows.size(); ++w) {
    std::span<int const> const ids = windows[w];
    require(!ids.empty(), ErrorKind::kInvalidArgument, "calibration window ", w, " is empty");
    KVCache cache = prefix != nullptr
                        ? prefix->cache.fork(prefix->cache.length() + static_cast<int>(ids.size()))
                        : model.make_cache(static_cast<int>(ids.size()));
    model.forward(ids, cache, {}, forward);
    if (on_window) {
      on_window(w + 1, windows.size());
    }
  }
  return absmax;
}

//! Static per-tensor scales (AQ3): per module, the largest input absmax seen over the
//! calibration windows, divided by 127 (an all-zero input gives scale 1). MoE: an expert is
//! measured over the rows routed to it; an expert no calibration token was routed to gets
//! the widest scale of its layer's experts of the same kind (fill_unrouted_expert_scales).
//! Apply with QuantPlan::set_static_scales.
inline std::map<ModuleId, float> calibrate_static_scales(
    Model const& model,
    std::span<std::vector<int> const> windows,
    ForwardOptions forward = {},
    Prefix const* prefix = nullptr,
    std::function<void(std::size_t, std::size_t)> const& on_window = {}) {
  auto scales = calibrate_absmax(model, windows, std::move(forward), prefix, on_window);
  for (auto& [id, s] : scales) {
    s = scale_from_absmax(s);
  }
  fill_unrouted_expert_scales(scales, model.module_ids());
  return scales;
}

}  // namespace spikequant::v0::llama
