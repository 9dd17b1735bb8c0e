// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Text generation: greedy (temperature 0) and sampling with temperature and top-p,
//! with llama2.c's xorshift RNG and sampler so a seed gives the same tokens everywhere.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/model/kv_cache.hpp"
#include "spikequant/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace spikequant::inline v0::llama {

struct SamplingOptions {
  int steps = 256;              //!< total positions (prompt included), as llama2.c's -n
  float temperature = 0.0f;     //!< 0: greedy argmax
  float top_p = 0.9f;           //!< nucleus sampling when 0 < top_p < 1; otherwise plain sampling
  std::uint64_t seed = 42;      //!< xorshift seed (0 is replaced by 1)
  bool stop_at_bos_eos = true;  //!< stop when the model emits BOS (llama2.c) or EOS
};

//! llama2.c's xorshift* generator.
class XorShiftRng {
public:
  explicit XorShiftRng(std::uint64_t seed)
      : state_(seed == 0 ? 1 : seed) {}
  std::uint32_t next_u32() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return static_cast<std::uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
  }
  //! Uniform in [0, 1).
  float next_f32() { return static_cast<float>(next_u32() >> 8) / 16777216.0f; }

private:
  std::uint64_t state_;
};

//! Picks the next token from logits (modified in place: divided by temperature, softmaxed).
//! Greedy ties go to the lowest id.
inline int sample_token(std::span<float> logits, SamplingOptions const& o, XorShiftRng& rng) {
  require(!logits.empty(), ErrorKind::kInvalidArgument, "sample_token: empty logits");
  if (o.temperature <= 0.0f) {
    return static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  float max_l = *std::max_element(logits.begin(), logits.end());
  float sum = 0.0f;
  for (float& v : logits) {
    v = std::exp((v - max_l) / o.temperature);
    sum += v;
  }
  for (float& v : logits) {
    v /= sum;
  }
  float const coin = rng.next_f32();
  auto const n = static_cast<int>(logits.size());
  if (o.top_p <= 0.0f || o.top_p >= 1.0f) {
    float cdf = 0.0f;
    for (int i = 0; i < n; ++i) {
      cdf += logits[static_cast<std::size_t>(i)];
      if (coin < cdf) {
        return i;
      }
    }
    return n - 1;
  }
  // Top-p (llama2.c sample_topp): drop tokens below (1 - p) / (n - 1), sort the rest by
  // probability, keep the smallest prefix whose mass exceeds p, sample inside it.
  float const cutoff = (1.0f - o.top_p) / static_cast<float>(n - 1 > 0 ? n - 1 : 1);
  std::vector<std::pair<float, int>> cand;
  for (int i = 0; i < n; ++i) {
    if (logits[static_cast<std::size_t>(i)] >= cutoff) {
      cand.emplace_back(logits[static_cast<std::size_t>(i)], i);
    }
  }
  if (cand.empty()) {
    return static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  std::stable_sort(
      cand.begin(), cand.end(), [](auto const& a, auto const& b) { return a.first > b.first; });
  float cum = 0.0f;
  std::size_t last = cand.size() - 1;
  for (std::size_t i = 0; i < cand.size(); ++i) {
    cum += cand[i].first;
    if (cum > o.top_p) {
      last = i;
      break;
    }
  }
  float const r = coin * cum;
  float cdf = 0.0f;
  for (std::size_t i = 0; i <= last; ++i) {
    cdf += cand[i].first;
    if (r < cdf) {
      return cand[i].second;
    }
  }
  return cand[last].second;
}

//! Generates after `prompt` (BOS first, at least one token) until prompt + output hold
//! `steps` tokens or BOS/EOS is produced. The prompt runs as one batched prefill, then one token
//! per forward. `on_token` sees each new token as it is produced.
//! @return the new tokens (prompt not included; a final BOS/EOS not included)
inline std::vector<int> generate(
    Model const& model,
    std::span<int const> prompt,
    SamplingOptions const& options = {},
    std::function<void(int)> const& on_token = {},
    ForwardOptions const& forward = {}) {
  require(!prompt.empty(), ErrorKind::kInvalidArgument, "generate: empty prompt (start with BOS)");
  int const steps = std::max(options.steps, static_cast<int>(prompt.size()));
  KVCache cache = model.make_cache(steps);
  XorShiftRng rng(options.seed);
  std::vector<int> out;
  std::vector<float> logits = model.forward_last(prompt, cache, forward);
  while (true) {
    int const next = sample_token(logits, options, rng);
    if (options.stop_at_bos_eos &&
        (next == model.config().bos_id || next == model.config().eos_id)) {
      break;
    }
    out.push_back(next);
    if (on_token) {
      on_token(next);
    }
    if (prompt.size() + out.size() >= static_cast<std::size_t>(steps)) {
      break;
    }
    int const one[1] = {next};
    logits = model.forward_last(one, cache, forward);
  }
  return out;
}

}  // namespace spikequant::v0::llama
