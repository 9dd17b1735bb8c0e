// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Bad input: every CPU entry point reports misuse as spikequant::Error with the right
//! kind and a message naming the argument and the shapes involved.
#include "cpu/reference.hpp"
#include "spikequant/cpu/glu.hpp"
#include "spikequant/cpu/linear.hpp"
#include "spikequant/cpu/rmsnorm.hpp"
#include "spikequant/cpu/smoothquant.hpp"

#include <array>
#include <doctest/doctest.h>
#include <limits>
#include <vector>

using namespace spikequant;
using namespace spikequant_test;
using granularity::PerGroup;
using granularity::PerTensor;
using granularity::PerToken;

TEST_CASE("gemm: mismatched K and output shapes") {
  Mat<std::int8_t> a(4, 5);
  Mat<std::int8_t> b(3, 6);
  Mat<std::int32_t> acc(4, 3);
  auto e = catch_error([&] { cpu::gemm_s8s8s32(a.cref(), b.cref(), acc.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "gemm_s8s8s32"));
  CHECK(has(e, "(4, 5)"));
  CHECK(has(e, "(3, 6)"));

  Mat<std::int8_t> b2(3, 5);
  Mat<std::int32_t> bad(4, 4);
  e = catch_error([&] { cpu::gemm_s8s8s32(a.cref(), b2.cref(), bad.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "output is (4, 4), expected (4, 3)"));
}

TEST_CASE("dequant epilogue: scale, bias and residual sizes") {
  Mat<std::int8_t> a(4, 5);
  Mat<std::int8_t> b(3, 5);
  Mat<float> out(4, 3);
  std::vector<float> const three(3, 1.0f);
  std::vector<float> const four(4, 1.0f);
  std::vector<float> const two(2, 1.0f);
  auto e = catch_error([&] { cpu::gemm_dequant(a.cref(), b.cref(), {three, three}, out.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "act_scales has 3 elements"));
  CHECK(has(e, "M = 4"));
  e = catch_error([&] { cpu::gemm_dequant(a.cref(), b.cref(), {four, two}, out.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "weight_scales has 2 elements"));
  CHECK(has(e, "N = 3"));
  e = catch_error([&] { cpu::gemm_dequant(a.cref(), b.cref(), {four, three, two}, out.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "bias has 2 elements"));
  Mat<float> res(3, 3);
  e = catch_error([&] {
    cpu::gemm_dequant(a.cref(), b.cref(), {four, three, {}, res.cref()}, out.ref());
  });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "residual is (3, 3), expected (4, 3)"));
}

TEST_CASE("quantize: shape, scale count, group size, non-positive sizes") {
  Mat<float> x(4, 6);
  Mat<std::int8_t> codes(4, 6);
  Mat<std::int8_t> wrong(4, 5);
  std::vector<float> scales(4);
  auto e = catch_error([&] { cpu::quantize_dynamic<PerToken>(x.cref(), wrong.ref(), scales); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "input is (4, 6) but codes is (4, 5)"));

  std::vector<float> three(3);
  e = catch_error([&] { cpu::quantize_dynamic<PerToken>(x.cref(), codes.ref(), three); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "per-token scales need 4 elements for input (4, 6), got 3"));

  // A group size that does not divide the row.
  e = catch_error([&] { (void)cpu::quantize_dynamic<PerGroup<4>>(x.cref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "PerGroup<4>"));
  CHECK(has(e, "(4, 6)"));
  std::vector<float> gs(6, 1.0f);
  e = catch_error([&] { cpu::quantize_static<PerGroup<4>>(x.cref(), gs, codes.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(4, 6)"));
  e = catch_error([&] { (void)cpu::scale_count<PerGroup<5>>(2, 12); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(2, 12)"));

  // Non-positive sizes.
  MatrixRef<float const> const empty{x.buf.data(), 0, 6, 6};
  MatrixRef<std::int8_t> const empty_codes{codes.buf.data(), 0, 6, 6};
  e = catch_error([&] { (void)cpu::quantize_dynamic<PerTensor>(empty); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(0, 6)"));
  std::vector<float> one(1, 1.0f);
  e = catch_error([&] { cpu::quantize_static<PerTensor>(empty, one, empty_codes); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(0, 6)"));
  MatrixRef<float const> const negative{x.buf.data(), 4, -2, 6};
  e = catch_error([&] { (void)cpu::quantize_dynamic<PerToken>(negative); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(4, -2)"));

  // dequantize with the wrong scale count.
  Mat<float> out(4, 6);
  e = catch_error([&] { cpu::dequantize<PerToken>(codes.cref(), three, out.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(4, 6)"));
}

TEST_CASE("quantize_static: non-finite and non-positive scales") {
  Mat<float> x(2, 3);
  Mat<std::int8_t> codes(2, 3);
  float const nan = std::numeric_limits<float>::quiet_NaN();
  float const inf = std::numeric_limits<float>::infinity();
  for (float bad : {nan, inf, -inf}) {
    std::vector<float> s = {bad};
    auto const e = catch_error([&] { cpu::quantize_static<PerTensor>(x.cref(), s, codes.ref()); });
    CHECK(e.kind() == ErrorKind::kNonFinite);
    CHECK(has(e, "quantize_static: scale 0"));
  }
  for (float bad : {0.0f, -1.0f}) {
    std::vector<float> s = {bad};
    auto const e = catch_error([&] { cpu::quantize_static<PerTensor>(x.cref(), s, codes.ref()); });
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
    CHECK(has(e, "must be > 0"));
  }
  // Second scale bad: the index is named.
  std::vector<float> s2 = {1.0f, nan};
  auto const e = catch_error([&] { cpu::quantize_static<PerToken>(x.cref(), s2, codes.ref()); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
  CHECK(has(e, "scale 1"));
  // Through linear_w8a8 (AQ3).
  auto const q = cpu::quantize_weight(random_float(4, 3, 1).cref());
  Mat<float> y(2, 4);
  auto const e2 = catch_error([&] { cpu::linear_w8a8<AQ3>(x.cref(), q, y.ref(), nan); });
  CHECK(e2.kind() == ErrorKind::kNonFinite);
}

TEST_CASE("linear: mismatched in_features, output and bias") {
  auto const q = cpu::quantize_weight(random_float(3, 4, 1).cref());  // (3, 4)
  auto const w = random_float(3, 4, 2);
  Mat<float> x(2, 5);
  Mat<float> y(2, 3);
  for (auto const& fn : std::vector<std::function<void()>>{
           [&] { cpu::linear_float(x.cref(), w.cref(), {}, y.ref()); },
           [&] { cpu::linear_w8a16(x.cref(), q, {}, y.ref()); },
           [&] { cpu::linear_w8a8<AQ1>(x.cref(), q, y.ref()); }}) {
    auto const e = catch_error(fn);
    CHECK(e.kind() == ErrorKind::kShape);
    CHECK(has(e, "input is (2, 5) but weight is (3, 4)"));
  }
  Mat<float> x4(2, 4);
  Mat<float> y_bad(2, 2);
  auto e = catch_error([&] { cpu::linear_w8a8<AQ2>(x4.cref(), q, y_bad.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "output is (2, 2), expected (2, 3)"));
  std::vector<float> const bias(2);
  e = catch_error([&] { cpu::linear_float(x4.cref(), w.cref(), bias, y.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "bias has 2 elements, expected 3"));
}

TEST_CASE("glu and rmsnorm: shapes, sizes, eps") {
  Mat<float> g(3, 4);
  Mat<float> u(3, 5);
  Mat<float> o(3, 4);
  auto e = catch_error([&] { cpu::swiglu(g.cref(), u.cref(), o.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "gate is (3, 4) but up is (3, 5)"));
  Mat<float> o2(2, 4);
  e = catch_error([&] { cpu::geglu(g.cref(), g.cref(), o2.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(3, 4)"));
  CHECK(has(e, "(2, 4)"));
  MatrixRef<float const> const empty{g.buf.data(), 0, 4, 4};
  MatrixRef<float> const empty_out{o.buf.data(), 0, 4, 4};
  e = catch_error([&] { cpu::swiglu(empty, empty, empty_out); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(0, 4)"));

  std::vector<float> const w3(3, 1.0f);
  e = catch_error([&] { cpu::rmsnorm(g.cref(), w3, 1e-5f, o.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "weight has 3 elements but input is (3, 4)"));
  std::vector<float> const w4(4, 1.0f);
  e = catch_error([&] { cpu::rmsnorm(g.cref(), w4, 1e-5f, o2.ref()); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "input is (3, 4) but output is (2, 4)"));
  e = catch_error([&] { cpu::rmsnorm(empty, w4, 1e-5f, empty_out); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "(0, 4)"));
  for (float eps : {-1.0f, std::numeric_limits<float>::quiet_NaN()}) {
    e = catch_error([&] { cpu::rmsnorm(g.cref(), w4, eps, o.ref()); });
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
    CHECK(has(e, "eps"));
  }
}

TEST_CASE("smoothquant: lengths, alpha, non-finite statistics, consumer shapes") {
  std::vector<float> const a4(4, 1.0f);
  std::vector<float> const a3(3, 1.0f);
  auto e = catch_error([&] { (void)cpu::smoothquant_factors(a4, a3, 0.5f); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "act_absmax has 4 elements but weight_absmax has 3"));
  for (float alpha : {-0.1f, 1.1f, std::numeric_limits<float>::quiet_NaN()}) {
    e = catch_error([&] { (void)cpu::smoothquant_factors(a4, a4, alpha); });
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
    CHECK(has(e, "alpha"));
  }
  std::vector<float> bad = {1.0f, std::numeric_limits<float>::infinity(), 1.0f, 1.0f};
  e = catch_error([&] { (void)cpu::smoothquant_factors(bad, a4, 0.5f); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
  CHECK(has(e, "channel 1"));

  std::vector<float> norm(4, 1.0f);
  Mat<float> wq(2, 4, 0, 1.0f);
  Mat<float> wk(2, 3, 0, 1.0f);
  std::array<MatrixRef<float>, 2> const cons = {wq.ref(), wk.ref()};
  e = catch_error([&] { cpu::fold_smoothing(norm, cons, a4); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "consumer 1 is (2, 3) but norm_weight has K = 4"));
  // Nothing was modified by the failed call.
  CHECK(norm == std::vector<float>(4, 1.0f));
  CHECK(wq.buf == std::vector<float>(8, 1.0f));
  e = catch_error([&] { cpu::fold_smoothing(norm, cons, a3); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "factors has 3 elements but norm_weight has 4"));
  std::array<MatrixRef<float>, 1> const one = {wq.ref()};
  std::vector<float> const zero_factor = {1.0f, 0.0f, 1.0f, 1.0f};
  e = catch_error([&] { cpu::fold_smoothing(norm, one, zero_factor); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
  CHECK(has(e, "factor 1"));
  e = catch_error([&] { cpu::fold_smoothing(norm, std::span<MatrixRef<float> const>{}, a4); });
  CHECK(e.kind() == ErrorKind::kInvalidArgument);

  Mat<float> x(2, 3);
  x(1, 2) = std::numeric_limits<float>::quiet_NaN();
  e = catch_error([&] { (void)cpu::column_absmax(x.cref()); });
  CHECK(e.kind() == ErrorKind::kNonFinite);
  CHECK(has(e, "(1, 2)"));
  std::array<MatrixRef<float const>, 2> const mixed = {wq.cref(), wk.cref()};
  e = catch_error([&] { (void)cpu::weight_column_absmax(mixed); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(has(e, "weight 0 is (2, 4) but weight 1 is (2, 3)"));
}
