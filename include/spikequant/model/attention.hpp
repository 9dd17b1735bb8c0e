// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The attention half of a layer, as free functions of the config: RoPE, causal
//! grouped-query attention over the KV cache (sliding window included) and the optional BMM
//! fake quantization of q / k / v (QuantPlan::bmm).
#pragma once

#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/granularity.hpp"
#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/cpu/quantize.hpp"
#include "spikequant/model/config.hpp"
#include "spikequant/model/kv_cache.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace spikequant::inline v0::llama {

//! m = dequantize(quantize_dynamic(m)) in place, one scale over m (kPerTensor) or per row
//! (kPerToken): QuantPlan::bmm's fake quantization of a q/k/v projection output.
inline void bmm_fake_quantize(ActScheme scheme, MatrixRef<float> m) {
  std::vector<std::int8_t> codes(static_cast<std::size_t>(m.rows * m.cols));
  MatrixRef<std::int8_t> const c{codes.data(), m.rows, m.cols, m.cols};
  MatrixRef<float const> const x = m;
  if (scheme == ActScheme::kPerTensor) {
    float scale = 0.0f;
    cpu::quantize_dynamic<granularity::PerTensor>(x, c, std::span<float>(&scale, 1));
    cpu::dequantize<granularity::PerTensor>(c, std::span<float const>(&scale, 1), m);
    return;
  }
  require(
      scheme == ActScheme::kPerToken,
      ErrorKind::kInvalidArgument,
      "forward: static BMM quantization is not supported");
  std::vector<float> scales(static_cast<std::size_t>(m.rows));
  cpu::quantize_dynamic<granularity::PerToken>(x, c, scales);
  cpu::dequantize<granularity::PerToken>(c, scales, m);
}

//! Rotates pairs of every head of `m` (T, n_heads * head_dim) in place, row t at position
//! start + t. Frequencies theta^(-2i/head_dim) for pair i, angle computed in float as HF.
inline void apply_rope(Config const& c, MatrixRef<float> m, int n_heads, int start) {
  int const hd = c.head_dim;
  int const half = hd / 2;
  std::vector<float> inv_freq(static_cast<std::size_t>(half));
  for (int i = 0; i < half; ++i) {
    inv_freq[static_cast<std::size_t>(i)] = static_cast<float>(
        1.0 / std::pow(static_cast<double>(c.rope_theta), (2.0 * i) / static_cast<double>(hd)));
  }
  for (std::int64_t t = 0; t < m.rows; ++t) {
    auto const pos = static_cast<float>(start + t);
    for (int i = 0; i < half; ++i) {
      float const angle = pos * inv_freq[static_cast<std::size_t>(i)];
      float const cs = std::cos(angle);
      float const sn = std::sin(angle);
      for (int h = 0; h < n_heads; ++h) {
        float* head = m.row(t) + static_cast<std::ptrdiff_t>(h) * hd;
        int const a = c.rope == RopeStyle::kInterleaved ? 2 * i : i;
        int const b = c.rope == RopeStyle::kInterleaved ? 2 * i + 1 : i + half;
        float const x0 = head[a];
        float const x1 = head[b];
        head[a] = x0 * cs - x1 * sn;
        head[b] = x0 * sn + x1 * cs;
      }
    }
  }
}

//! Causal grouped-query attention of rows q (T, n_heads * hd) at positions start + t over
//! cached keys/values [0, start + t]; query head h reads KV head h / (n_heads / n_kv_heads).
inline void attention(
    Config const& c,
    MatrixRef<float> q,
    KVCache const& cache,
    int layer,
    int start,
    MatrixRef<float> out) {
  int const hd = c.head_dim;
  int const group = c.n_heads / c.n_kv_heads;
  float const inv_sqrt = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> scores(static_cast<std::size_t>(start + q.rows));
  for (std::int64_t t = 0; t < q.rows; ++t) {
    int const n_ctx = start + static_cast<int>(t) + 1;
    // Keys first..n_ctx-1: all of them, or the last sliding_window (transformers' mask
    // keeps kv > q - window). The cache still holds the older ones; they are just unseen.
    int const first = c.sliding_window > 0 ? std::max(0, n_ctx - c.sliding_window) : 0;
    for (int h = 0; h < c.n_heads; ++h) {
      float const* qh = q.row(t) + static_cast<std::ptrdiff_t>(h) * hd;
      std::ptrdiff_t const kv_off = static_cast<std::ptrdiff_t>(h / group) * hd;
      float max_score = -INFINITY;
      for (int s = first; s < n_ctx; ++s) {
        float const* kh = cache.key(layer, s) + kv_off;
        float dot = 0.0f;
        for (int j = 0; j < hd; ++j) {
          dot += qh[j] * kh[j];
        }
        float const sc = dot * inv_sqrt;
        scores[static_cast<std::size_t>(s)] = sc;
        max_score = std::max(max_score, sc);
      }
      float sum = 0.0f;
      for (int s = first; s < n_ctx; ++s) {
        float const e = std::exp(scores[static_cast<std::size_t>(s)] - max_score);
        scores[static_cast<std::size_t>(s)] = e;
        sum += e;
      }
      float* oh = out.row(t) + static_cast<std::ptrdiff_t>(h) * hd;
      std::fill_n(oh, hd, 0.0f);
      for (int s = first; s < n_ctx; ++s) {
        float const p = scores[static_cast<std::size_t>(s)] / sum;
        float const* vh = cache.value(layer, s) + kv_off;
        for (int j = 0; j < hd; ++j) {
          oh[j] += p * vh[j];
        }
      }
    }
  }
}

}  // namespace spikequant::v0::llama
