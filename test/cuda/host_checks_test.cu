// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Argument validation of the CUDA entry points. Host-only (can_implement and run reject
//! bad arguments before any CUDA call), so this runs in CI without a GPU.
#include "spikequant/cuda/device/glu.cuh"
#include "spikequant/cuda/device/quantize.cuh"
#include "spikequant/cuda/device/rmsnorm.cuh"
#include "spikequant/cuda/runtime/check.cuh"
#include "spikequant/cuda/runtime/checks.cuh"
#include "spikequant/cuda/runtime/device.cuh"

#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <string>

namespace {
namespace sq = spikequant;
namespace sqc = spikequant::cuda;

// Fake "device" storage: can_implement never dereferences pointers.
alignas(256) float g_x[64 * 64];
alignas(256) std::int8_t g_codes[64 * 64];
alignas(256) float g_scales[64];
alignas(256) unsigned int g_ws[4];

sq::ErrorKind kind_of(auto&& f) {
  try {
    f();
  } catch (sq::Error const& e) {
    MESSAGE(std::string(e.what()));
    return e.kind();
  }
  FAIL("no spikequant::Error thrown");
  return sq::ErrorKind::kUnsupported;
}

sqc::QuantizeRows<float>::Arguments
good(sq::ActScheme scheme, std::int64_t rows = 8, std::int64_t cols = 64) {
  std::size_t const n = scheme == sq::ActScheme::kPerToken ? static_cast<std::size_t>(rows) : 1;
  return {{g_x, rows, cols, cols}, {scheme, {g_codes, rows, cols, cols}, {g_scales, n}, 0.5f, {}}};
}
}  // namespace

TEST_CASE("QuantizeRows::can_implement accepts good arguments and sizes the workspace") {
  using Q = sqc::QuantizeRows<float>;
  for (auto s : {sq::ActScheme::kPerToken, sq::ActScheme::kPerTensor, sq::ActScheme::kStatic}) {
    CHECK_NOTHROW(Q::check(good(s)));
  }
  CHECK(Q::get_workspace_size(good(sq::ActScheme::kPerToken)) == 0);
  CHECK(Q::get_workspace_size(good(sq::ActScheme::kPerTensor)) == 4);
  CHECK(Q::get_workspace_size(good(sq::ActScheme::kStatic)) == 0);
  CHECK(Q::is_vectorized(good(sq::ActScheme::kPerToken)));
  auto a = good(sq::ActScheme::kPerToken, 8, 63);
  a.x.ld = 63;  // 252-byte rows: not 16-byte aligned -> scalar path
  CHECK_FALSE(Q::is_vectorized(a));
  CHECK_NOTHROW(Q::check(a));
}

TEST_CASE("QuantizeRows rejects bad shapes, alignment, scales and workspace") {
  using Q = sqc::QuantizeRows<float>;
  auto a = good(sq::ActScheme::kPerToken);
  a.x.data = reinterpret_cast<float const*>(reinterpret_cast<char const*>(g_x) + 1);
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kAlignment);
  a = good(sq::ActScheme::kPerToken);
  a.out.codes.cols = 63;
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kShape);
  // The Status form gives the same verdict without throwing.
  CHECK_FALSE(Q::can_implement(a).ok());
  CHECK(Q::can_implement(a).kind() == sq::ErrorKind::kShape);
  CHECK(Q::can_implement(good(sq::ActScheme::kPerToken)).ok());
  a = good(sq::ActScheme::kPerToken);
  a.x.ld = 10;  // ld < cols
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kShape);
  a = good(sq::ActScheme::kPerToken);
  a.x.rows = 0;
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kShape);
  a = good(sq::ActScheme::kPerToken);
  a.out.scales = {g_scales, 7};
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kShape);
  a = good(sq::ActScheme::kPerTensor);
  a.out.scales = {g_scales, 2};
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kShape);
  a = good(sq::ActScheme::kPerToken);
  a.x.data = nullptr;
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kInvalidArgument);
  a = good(sq::ActScheme::kStatic);
  a.out.static_scale = std::nanf("");
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kNonFinite);
  a.out.static_scale = 0.0f;
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kInvalidArgument);
  a = good(sq::ActScheme::kPerToken);
  a.out.values = {g_x, 8, 64, 64};  // float output is not offered by QuantizeRows
  CHECK(kind_of([&] { Q::check(a); }) == sq::ErrorKind::kInvalidArgument);
  // run() validates before touching CUDA: a missing per-tensor workspace is reported.
  CHECK(kind_of([&] {
          Q::run(good(sq::ActScheme::kPerTensor), nullptr, 0);
        }) == sq::ErrorKind::kInvalidArgument);
  CHECK(kind_of([&] {
          Q::run(good(sq::ActScheme::kPerTensor), reinterpret_cast<char*>(g_ws) + 1, 4);
        }) == sq::ErrorKind::kAlignment);
  a = good(sq::ActScheme::kPerToken);
  a.x.cols = 65;
  CHECK(kind_of([&] { Q::run(a, nullptr, 0); }) == sq::ErrorKind::kShape);
}

TEST_CASE("GluQuantize and RmsNormQuantize reject mismatched shapes and bad eps") {
  using G = sqc::SwiGluQuantize<__half>;
  auto const* h = reinterpret_cast<__half const*>(g_x);
  G::Arguments g{
      {h, 8, 64, 64},
      {h, 8, 64, 64},
      {sq::ActScheme::kPerToken, {g_codes, 8, 64, 64}, {g_scales, 8}, 0.f, {}}};
  CHECK_NOTHROW(G::check(g));
  CHECK(G::is_vectorized(g));
  g.up.cols = 32;
  CHECK(kind_of([&] { G::check(g); }) == sq::ErrorKind::kShape);
  g.up.cols = 64;
  g.up.data = h + 1;  // 2-byte aligned: still valid, but scalar
  CHECK_NOTHROW(G::check(g));
  CHECK_FALSE(G::is_vectorized(g));
  g.out = {sq::ActScheme::kPerToken, {}, {}, 0.f, {g_x, 8, 64, 64}};  // float output
  CHECK_NOTHROW(G::check(g));
  CHECK(G::get_workspace_size(g) == 0);
  g.out.scales = {g_scales, 8};
  CHECK(kind_of([&] { G::check(g); }) == sq::ErrorKind::kInvalidArgument);

  using R = sqc::RmsNormQuantize<float>;
  R::Arguments r{
      {g_x, 8, 64, 64},
      {g_x, 64},
      1e-5f,
      {sq::ActScheme::kPerTensor, {g_codes, 8, 64, 64}, {g_scales, 1}, 0.f, {}}};
  CHECK_NOTHROW(R::check(r));
  CHECK(R::get_workspace_size(r) == 4);
  r.weight = {g_x, 63};
  CHECK(kind_of([&] { R::check(r); }) == sq::ErrorKind::kShape);
  r.weight = {g_x, 64};
  r.eps = -1.0f;
  CHECK(kind_of([&] { R::check(r); }) == sq::ErrorKind::kInvalidArgument);
}

TEST_CASE("runtime checks: alignment, error messages, device_count never throws") {
  CHECK(kind_of([&] {
          sq::require_aligned(reinterpret_cast<char*>(g_x) + 4, 16, "x");
        }) == sq::ErrorKind::kAlignment);
  CHECK_NOTHROW(sq::require_aligned(g_x, 16, "x"));
  try {
    SPIKEQUANT_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL("no throw");
  } catch (sq::Error const& e) {
    CHECK(e.kind() == sq::ErrorKind::kCuda);
    CHECK(std::string(e.what()).find("cudaErrorInvalidValue") != std::string::npos);
    CHECK(std::string(e.what()).find("SPIKEQUANT_CUDA_CHECK") == std::string::npos);
  }
  try {
    SPIKEQUANT_CUBLAS_CHECK(CUBLAS_STATUS_NOT_SUPPORTED);
    FAIL("no throw");
  } catch (sq::Error const& e) {
    CHECK(e.kind() == sq::ErrorKind::kCuda);
    CHECK(std::string(e.what()).find("CUBLAS_STATUS_NOT_SUPPORTED") != std::string::npos);
  }
  CHECK(sqc::device_count() >= 0);
}
