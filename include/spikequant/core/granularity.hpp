// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Granularity tags: how many values share one quantization scale.
#pragma once

#include <concepts>
#include <string_view>
#include <type_traits>

namespace spikequant::inline v0 {
namespace granularity {

//! One scale for the whole tensor.
struct PerTensor {
  static constexpr std::string_view name = "per-tensor";
};
//! One scale per row of an (M, K) activation: one per token.
struct PerToken {
  static constexpr std::string_view name = "per-token";
};
//! One scale per row of an (N, K) weight: one per output channel.
struct PerChannel {
  static constexpr std::string_view name = "per-channel";
};
//! One scale per run of GroupSize_ consecutive values along a row.
template <int GroupSize_>
struct PerGroup {
  static_assert(GroupSize_ > 0, "PerGroup<N>: the group size N must be positive");
  static constexpr int GroupSize = GroupSize_;
  static constexpr std::string_view name = "per-group";
};

}  // namespace granularity

namespace detail {
template <class T>
struct is_per_group : std::false_type {};
template <int N>
struct is_per_group<granularity::PerGroup<N>> : std::true_type {};
}  // namespace detail

//! True for PerGroup<N> with any N.
template <class G>
inline constexpr bool is_per_group_v = detail::is_per_group<G>::value;

//! One of the four granularity tags. Backends dispatch on exactly these.
template <class G>
concept Granularity =
    std::same_as<G, granularity::PerTensor> || std::same_as<G, granularity::PerToken> ||
    std::same_as<G, granularity::PerChannel> || is_per_group_v<G>;

//! Granularity of an activation (M tokens, K features): scales follow tokens or the tensor,
//! or groups along K. PerChannel would need a scale per input feature, which cannot be
//! factored out of an INT8 GEMM's K reduction, so it is not an activation granularity.
template <class G>
concept ActivationGranularity = Granularity<G> && !std::same_as<G, granularity::PerChannel>;

//! Granularity of a weight (N out, K in): per output channel, per tensor or per group.
//! PerToken names the activation side and is rejected here to catch swapped arguments.
template <class G>
concept WeightGranularity = Granularity<G> && !std::same_as<G, granularity::PerToken>;

}  // namespace spikequant::v0
