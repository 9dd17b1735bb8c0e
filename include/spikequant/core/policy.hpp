// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Activation and weight quantization policies and the paper's AQ1/AQ2/AQ3.
#pragma once

#include "spikequant/core/estimator.hpp"
#include "spikequant/core/granularity.hpp"
#include "spikequant/core/scale_source.hpp"

#include <concepts>
#include <type_traits>

namespace spikequant::inline v0 {

//! A dynamic scale is computed inside the quantize kernel in one pass, so its estimator must
//! be a monoid (ReducibleEstimator). Percentile and MseClip need the whole sample: they can
//! only produce Static scales from calibration data.
template <class Source, class E>
concept EstimatorFitsSource = ScaleSource<Source> && Estimator<E> &&
    (std::same_as<Source, Static> || ReducibleEstimator<E>);

//! A static scale is fixed before the tokens are seen; per-token scales only exist at run
//! time, so Static pairs with per-tensor (or per-group) scales only.
template <class G, class Source>
concept GranularityFitsSource = ActivationGranularity<G> && ScaleSource<Source> &&
    !(std::same_as<Source, Static> && std::same_as<G, granularity::PerToken>);

//! How an activation is quantized: granularity x scale source x estimator.
//! Invalid combinations fail at the point of use with the concept that explains why.
template <class Granularity_, class Source_ = Dynamic, class Estimator_ = AbsMax>
requires ActivationGranularity<Granularity_> && GranularityFitsSource<Granularity_, Source_> &&
    EstimatorFitsSource<Source_, Estimator_>
struct ActivationQuant {
  using Granularity = Granularity_;
  using Source = Source_;
  using Estimator = Estimator_;
  static constexpr bool is_dynamic = std::same_as<Source_, Dynamic>;
};

//! True when ActivationQuant<G, S, E> names a valid policy (usable in static_assert and
//! requires-clauses without triggering a hard error).
template <class G, class S, class E = AbsMax>
concept ValidActivationQuant = requires {
  typename ActivationQuant<G, S, E>;
};

//! How a weight (N out, K in) is quantized: granularity x estimator (always ahead of time).
template <class Granularity_ = granularity::PerChannel, class Estimator_ = AbsMax>
requires WeightGranularity<Granularity_> && Estimator<Estimator_>
struct WeightQuant {
  using Granularity = Granularity_;
  using Estimator = Estimator_;
};

namespace detail {
template <class T>
struct is_activation_quant : std::false_type {};
template <class G, class S, class E>
struct is_activation_quant<ActivationQuant<G, S, E>> : std::true_type {};
template <class T>
struct is_weight_quant : std::false_type {};
template <class G, class E>
struct is_weight_quant<WeightQuant<G, E>> : std::true_type {};
}  // namespace detail

//! A specialization of ActivationQuant (and hence a valid combination).
template <class P>
concept ActivationPolicy = detail::is_activation_quant<P>::value;
//! A specialization of WeightQuant.
template <class P>
concept WeightPolicy = detail::is_weight_quant<P>::value;

//! The paper's three activation schemes (its Table 3 columns); ActScheme (act_scheme.hpp)
//! names them at run time.
using AQ1 = ActivationQuant<granularity::PerToken, Dynamic>;   //!< dynamic per-token
using AQ2 = ActivationQuant<granularity::PerTensor, Dynamic>;  //!< dynamic per-tensor
using AQ3 = ActivationQuant<granularity::PerTensor, Static>;   //!< static per-tensor
//! Weights: per output channel, absmax (the paper's and SmoothQuant's choice).
using PerChannelWeightInt8 = WeightQuant<granularity::PerChannel, AbsMax>;

}  // namespace spikequant::v0
