// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Mixtral's top-k expert routing (transformers' MixtralTopKRouter) for one MoE layer.
#pragma once

#include "spikequant/core/matrix_ref.hpp"
#include "spikequant/cpu/linear.hpp"
#include "spikequant/model/config.hpp"
#include "spikequant/model/weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace spikequant::inline v0::llama {

//! The routing of one MoE layer: per expert, the forward rows routed to it (ascending) and
//! their weights.
struct Routing {
  std::vector<std::vector<int>> rows;
  std::vector<std::vector<float>> weights;
};

//! transformers' MixtralTopKRouter on the FFN-norm output xb (T, dim): router logits
//! xb router^T in float (the router is never quantized), softmax over the experts in float,
//! the experts_per_token largest probabilities (ties: the lower expert index first, as
//! torch.topk), divided by their sum.
[[nodiscard]] inline Routing
route_experts(Config const& c, LayerWeights const& lw, MatrixRef<float const> xb) {
  auto const n_experts = static_cast<std::size_t>(c.n_experts);
  auto const k = static_cast<std::size_t>(c.experts_per_token);
  std::vector<float> logit_data(static_cast<std::size_t>(xb.rows * c.n_experts));
  MatrixRef<float> const logits{logit_data.data(), xb.rows, c.n_experts, c.n_experts};
  cpu::linear_float(xb, {lw.router.data(), c.n_experts, c.dim, c.dim}, {}, logits);
  Routing r{std::vector<std::vector<int>>(n_experts), std::vector<std::vector<float>>(n_experts)};
  std::vector<float> prob(n_experts);
  std::vector<std::size_t> order(n_experts);
  for (std::int64_t t = 0; t < xb.rows; ++t) {
    float const* l = logits.row(t);
    float const max_l = *std::max_element(l, l + n_experts);
    float sum = 0.0f;
    for (std::size_t e = 0; e < n_experts; ++e) {
      prob[e] = std::exp(l[e] - max_l);
      sum += prob[e];
    }
    for (float& p : prob) {
      p /= sum;
    }
    for (std::size_t e = 0; e < n_experts; ++e) {
      order[e] = e;
    }
    std::partial_sort(
        order.begin(),
        order.begin() + static_cast<std::ptrdiff_t>(k),
        order.end(),
        [&](std::size_t a, std::size_t b) {
          return prob[a] > prob[b] || (prob[a] == prob[b] && a < b);
        });
    float top = 0.0f;
    for (std::size_t i = 0; i < k; ++i) {
      top += prob[order[i]];
    }
    for (std::size_t i = 0; i < k; ++i) {
      r.rows[order[i]].push_back(static_cast<int>(t));
      r.weights[order[i]].push_back(prob[order[i]] / top);
    }
  }
  return r;
}

}  // namespace spikequant::v0::llama
