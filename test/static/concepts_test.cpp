// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Compile-time checks that every concept accepts what it should and rejects the rest.
#include "spikequant/core/act_scheme.hpp"
#include "spikequant/core/activation.hpp"
#include "spikequant/core/estimator.hpp"
#include "spikequant/core/exclude.hpp"
#include "spikequant/core/granularity.hpp"
#include "spikequant/core/policy.hpp"
#include "spikequant/core/scale_source.hpp"

#include <doctest/doctest.h>
#include <string_view>

namespace {

using namespace spikequant;
using granularity::PerChannel;
using granularity::PerGroup;
using granularity::PerTensor;
using granularity::PerToken;

// "Must not compile" probes for WeightQuant (the library has no Valid... concept for it).
template <class G, class E = AbsMax>
concept ValidWeightQuant = requires {
  typename WeightQuant<G, E>;
};

struct NotATag {};

// ---- Granularity ----------------------------------------------------------------------------
static_assert(Granularity<PerTensor>);
static_assert(Granularity<PerToken>);
static_assert(Granularity<PerChannel>);
static_assert(Granularity<PerGroup<1>>);
static_assert(Granularity<PerGroup<128>>);
static_assert(!Granularity<int>);
static_assert(!Granularity<NotATag>);
static_assert(!Granularity<PerTensor const>);  // tags are matched exactly, cv-qualified or not
static_assert(is_per_group_v<PerGroup<64>>);
static_assert(!is_per_group_v<PerTensor>);
static_assert(PerGroup<64>::GroupSize == 64);
// PerGroup<0> and PerGroup<-1> fail a static_assert in the class body (a hard error, so they
// cannot be probed with a requires-expression here).

static_assert(ActivationGranularity<PerTensor>);
static_assert(ActivationGranularity<PerToken>);
static_assert(ActivationGranularity<PerGroup<32>>);
static_assert(!ActivationGranularity<PerChannel>);
static_assert(!ActivationGranularity<int>);

static_assert(WeightGranularity<PerChannel>);
static_assert(WeightGranularity<PerTensor>);
static_assert(WeightGranularity<PerGroup<128>>);
static_assert(!WeightGranularity<PerToken>);
static_assert(!WeightGranularity<NotATag>);

// ---- Scale sources --------------------------------------------------------------------------
static_assert(ScaleSource<Dynamic>);
static_assert(ScaleSource<Static>);
static_assert(!ScaleSource<int>);
static_assert(!ScaleSource<PerTensor>);

// ---- Estimators -----------------------------------------------------------------------------
static_assert(ReducibleEstimator<AbsMax>);
static_assert(!ReducibleEstimator<Percentile<99.9>>);
static_assert(!ReducibleEstimator<MseClip>);
static_assert(!ReducibleEstimator<int>);
static_assert(SampleEstimator<Percentile<99.9>>);
static_assert(SampleEstimator<Percentile<100.0>>);
static_assert(SampleEstimator<MseClip>);
static_assert(!SampleEstimator<AbsMax>);
static_assert(!SampleEstimator<NotATag>);
static_assert(Estimator<AbsMax>);
static_assert(Estimator<MseClip>);
static_assert(Estimator<Percentile<50.0>>);
static_assert(!Estimator<int>);
static_assert(!Estimator<NotATag>);

static_assert(EstimatorFitsSource<Dynamic, AbsMax>);
static_assert(EstimatorFitsSource<Static, AbsMax>);
static_assert(EstimatorFitsSource<Static, Percentile<99.9>>);
static_assert(EstimatorFitsSource<Static, MseClip>);
static_assert(!EstimatorFitsSource<Dynamic, Percentile<99.9>>);
static_assert(!EstimatorFitsSource<Dynamic, MseClip>);
static_assert(!EstimatorFitsSource<NotATag, AbsMax>);

static_assert(GranularityFitsSource<PerToken, Dynamic>);
static_assert(GranularityFitsSource<PerTensor, Static>);
static_assert(GranularityFitsSource<PerGroup<64>, Static>);
static_assert(!GranularityFitsSource<PerToken, Static>);
static_assert(!GranularityFitsSource<PerChannel, Dynamic>);

// ---- ActivationQuant ------------------------------------------------------------------------
static_assert(ValidActivationQuant<PerToken, Dynamic>);
static_assert(ValidActivationQuant<PerTensor, Dynamic>);
static_assert(ValidActivationQuant<PerTensor, Static>);
static_assert(ValidActivationQuant<PerTensor, Static, Percentile<99.9>>);
static_assert(ValidActivationQuant<PerTensor, Static, MseClip>);
static_assert(ValidActivationQuant<PerGroup<128>, Dynamic>);
static_assert(ValidActivationQuant<PerGroup<128>, Static>);
// Dynamic scales are computed in one kernel pass: a sample estimator cannot run there.
static_assert(!ValidActivationQuant<PerTensor, Dynamic, Percentile<99.9>>);
static_assert(!ValidActivationQuant<PerToken, Dynamic, Percentile<99.9>>);
static_assert(!ValidActivationQuant<PerTensor, Dynamic, MseClip>);
// Per-token scales only exist at run time.
static_assert(!ValidActivationQuant<PerToken, Static>);
static_assert(!ValidActivationQuant<PerToken, Static, Percentile<99.9>>);
// A scale per input feature cannot be factored out of the GEMM's K reduction.
static_assert(!ValidActivationQuant<PerChannel, Dynamic>);
static_assert(!ValidActivationQuant<PerChannel, Static>);
// Non-tags.
static_assert(!ValidActivationQuant<int, Dynamic>);
static_assert(!ValidActivationQuant<PerTensor, int>);
static_assert(!ValidActivationQuant<PerTensor, Dynamic, int>);
static_assert(!ValidActivationQuant<PerTensor, Dynamic, NotATag>);

static_assert(AQ1::is_dynamic && AQ2::is_dynamic && !AQ3::is_dynamic);
static_assert(std::same_as<AQ1::Granularity, PerToken>);
static_assert(std::same_as<AQ2::Granularity, PerTensor>);
static_assert(std::same_as<AQ3::Granularity, PerTensor> && std::same_as<AQ3::Source, Static>);
static_assert(std::same_as<AQ1::Estimator, AbsMax>);

// ---- WeightQuant ----------------------------------------------------------------------------
static_assert(ValidWeightQuant<PerChannel>);
static_assert(ValidWeightQuant<PerTensor>);
static_assert(ValidWeightQuant<PerGroup<128>>);
static_assert(ValidWeightQuant<PerChannel, Percentile<99.9>>);  // weights are always offline
static_assert(ValidWeightQuant<PerChannel, MseClip>);
static_assert(!ValidWeightQuant<PerToken>);
static_assert(!ValidWeightQuant<int>);
static_assert(!ValidWeightQuant<PerChannel, int>);
static_assert(std::same_as<WeightQuant<>::Granularity, PerChannel>);
static_assert(std::same_as<PerChannelWeightInt8, WeightQuant<PerChannel, AbsMax>>);

// ---- Policy concepts and run-time names
// -----------------------------------------------------------
static_assert(ActivationPolicy<AQ1>);
static_assert(ActivationPolicy<AQ3>);
static_assert(ActivationPolicy<ActivationQuant<PerGroup<64>>>);
static_assert(!ActivationPolicy<int>);
static_assert(!ActivationPolicy<PerChannelWeightInt8>);
static_assert(WeightPolicy<PerChannelWeightInt8>);
static_assert(!WeightPolicy<AQ1>);
static_assert(!WeightPolicy<PerChannel>);

static_assert(act_scheme_of<AQ1> == ActScheme::kPerToken);
static_assert(act_scheme_of<AQ2> == ActScheme::kPerTensor);
static_assert(act_scheme_of<AQ3> == ActScheme::kStatic);
static_assert(
    act_scheme_of<ActivationQuant<PerTensor, Static, Percentile<99.9>>> == ActScheme::kStatic);
static_assert(std::same_as<policy_of<ActScheme::kPerToken>, AQ1>);
static_assert(std::same_as<policy_of<ActScheme::kPerTensor>, AQ2>);
static_assert(std::same_as<policy_of<ActScheme::kStatic>, AQ3>);

// ---- Module predicates ----------------------------------------------------------------------
constexpr auto accepts_info = [](ModuleInfo const&) { return true; };
constexpr auto accepts_int = [](int) { return true; };
constexpr auto returns_void = [](ModuleInfo const&) {};
static_assert(ModulePredicate<decltype(accepts_info)>);
static_assert(ModulePredicate<ModuleFilter>);
static_assert(!ModulePredicate<decltype(accepts_int)>);
static_assert(!ModulePredicate<decltype(returns_void)>);
static_assert(!ModulePredicate<int>);

// ---- GLU activations ------------------------------------------------------------------------
static_assert(GluActivation<activation::Silu>);
static_assert(GluActivation<activation::GeluTanh>);
static_assert(!GluActivation<int>);
static_assert(!GluActivation<decltype(accepts_int)>);  // no name

}  // namespace

TEST_CASE("static: tag names are the documented strings") {
  CHECK(PerTensor::name == "per-tensor");
  CHECK(PerToken::name == "per-token");
  CHECK(PerChannel::name == "per-channel");
  CHECK(PerGroup<64>::name == "per-group");
  CHECK(Dynamic::name == "dynamic");
  CHECK(Static::name == "static");
  CHECK(AbsMax::name == "absmax");
  CHECK(MseClip::name == "mse-clip");
  CHECK(Percentile<99.9>::name == "percentile");
  CHECK(Percentile<99.9>::percent == doctest::Approx(99.9));
  CHECK(activation::Silu::name == "silu");
  CHECK(activation::GeluTanh::name == "gelu-tanh");
  CHECK(to_string(ActScheme::kPerToken) == "w8a8-per-token");
  CHECK(to_string(ActScheme::kPerTensor) == "w8a8-per-tensor");
  CHECK(to_string(ActScheme::kStatic) == "w8a8-static");
}
