// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Fused GLU(+quantize) and RMSNorm(+quantize) vs the CPU reference.
//! - Float output vs cpu::swiglu / geglu / rmsnorm within a named error budget (device expf /
//!   tanhf differ from glibc in the last bits; RMSNorm is expected to match exactly).
//! - Quantized output: codes and scales exactly equal to cpu::quantize_* of the kernel's own
//!   float output (the fused kernel computes the same floats), and for RMSNorm equal to the
//!   full CPU chain as well.
#include "cuda/rows_check.cuh"
#include "spikequant/cuda/device/glu.cuh"
#include "spikequant/cuda/device/rmsnorm.cuh"

#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <vector>

namespace {
namespace sq = spikequant;
namespace sqc = spikequant::cuda;
using namespace spikequant_test;

struct Case {
  std::int64_t rows, cols, ld_in, ld_out;
  std::size_t offset;  // elements added to the input pointers (1 misaligns them)
};
// Vector path, scalar path (K = 4099), past the register cache (K = 12000), vector + tail,
// misaligned inputs, padded output rows.
constexpr Case kCases[] = {
    {37, 1000, 1000, 1000, 0},
    {37, 4099, 4099, 4099, 0},
    {3, 12000, 12000, 12000, 0},
    {6, 1001, 1008, 1008, 0},
    {4, 1000, 1003, 1016, 1},
};

//! Error budget of float outputs against the CPU: |gpu - cpu| <= atol + rtol * |cpu|.
struct Budget {
  float atol, rtol;
};
constexpr Budget kGluBudget{1e-6f, 1e-5f};    // expf / tanhf: a few ulp
constexpr Budget kRmsNormBudget{0.0f, 0.0f};  // same double sum -> same float inv_rms

std::int64_t
count_outside(std::vector<float> const& got, std::vector<float> const& want, Budget b) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    n += std::fabs(got[i] - want[i]) <= b.atol + b.rtol * std::fabs(want[i]) ? 0 : 1;
  }
  return n;
}

//! Runs `launch` with a float output (values (rows, ld_out)) and returns the dense values.
template <class Launch>
std::vector<float> run_float(Case const& k, Launch&& launch) {
  sqc::DeviceBuffer<float> values(static_cast<std::size_t>(k.rows * k.ld_out));
  values.fill_bytes(0xFF);
  sqc::RowsOutput const out{
      sq::ActScheme::kPerToken, {}, {}, 0.0f, {values.data(), k.rows, k.cols, k.ld_out}};
  launch(out, nullptr, 0);
  std::vector<float> all(values.size());
  values.download(all);
  SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> dense(static_cast<std::size_t>(k.rows * k.cols));
  for (std::int64_t r = 0; r < k.rows; ++r) {
    for (std::int64_t c = 0; c < k.cols; ++c) {
      dense[static_cast<std::size_t>(r * k.cols + c)] =
          all[static_cast<std::size_t>(r * k.ld_out + c)];
    }
  }
  return dense;
}

template <class T, class A>
void glu_case(Case const& k, std::uint32_t seed) {
  bool const geglu = std::is_same_v<A, sq::activation::GeluTanh>;
  auto const g = random_rows<T>(k.rows, k.cols, k.ld_in, seed, 20.0f);
  auto const u = random_rows<T>(k.rows, k.cols, k.ld_in, seed + 1000, 20.0f);
  auto gate = upload_at(g.data, k.offset);
  auto up = upload_at(u.data, k.offset);
  using Op = sqc::GluQuantize<T, A>;
  auto args_for = [&](sqc::RowsOutput const& out) {
    return typename Op::Arguments{
        {gate.data() + k.offset, k.rows, k.cols, k.ld_in},
        {up.data() + k.offset, k.rows, k.cols, k.ld_in},
        out};
  };
  auto launch = [&](sqc::RowsOutput const& out, void* ws, std::size_t bytes) {
    Op::run(args_for(out), ws, bytes, nullptr);
  };
  INFO(
      sqc::element_name<T>,
      " ",
      A::name,
      " (",
      k.rows,
      ", ",
      k.cols,
      ") ld ",
      k.ld_in,
      " offset ",
      k.offset);
  auto const prod = run_float(k, launch);
  std::vector<float> want(prod.size());
  ref::glu(geglu, g.dense.data(), u.dense.data(), k.rows, k.cols, want.data());
  CHECK(count_outside(prod, want, kGluBudget) == 0);
  for (auto scheme :
       {sq::ActScheme::kPerToken, sq::ActScheme::kPerTensor, sq::ActScheme::kStatic}) {
    float const s = saturating_static_scale(prod);
    check_codes(
        scheme,
        k.rows,
        k.cols,
        k.ld_out,
        s,
        expected_codes(scheme, prod, k.rows, k.cols, s),
        [&](sqc::RowsOutput const& out) { return Op::get_workspace_size(args_for(out)); },
        launch);
  }
}

template <class T>
void rmsnorm_case(Case const& k, std::uint32_t seed) {
  auto const x_in = random_rows<T>(k.rows, k.cols, k.ld_in, seed);
  auto const w_in = random_rows<T>(1, k.cols, k.cols, seed + 7, 1.0f);
  auto x = upload_at(x_in.data, k.offset);
  auto w = upload_at(w_in.data, 0);
  float const eps = 1e-5f;
  using Op = sqc::RmsNormQuantize<T>;
  auto args_for = [&](sqc::RowsOutput const& out) {
    return typename Op::Arguments{
        {x.data() + k.offset, k.rows, k.cols, k.ld_in},
        std::span<T const>(w.data(), static_cast<std::size_t>(k.cols)),
        eps,
        out};
  };
  auto launch = [&](sqc::RowsOutput const& out, void* ws, std::size_t bytes) {
    Op::run(args_for(out), ws, bytes, nullptr);
  };
  INFO(
      sqc::element_name<T>,
      " rmsnorm (",
      k.rows,
      ", ",
      k.cols,
      ") ld ",
      k.ld_in,
      " offset ",
      k.offset);
  auto const y = run_float(k, launch);
  std::vector<float> want(y.size());
  ref::rmsnorm(x_in.dense.data(), w_in.dense.data(), eps, k.rows, k.cols, want.data());
  CHECK(count_outside(y, want, kRmsNormBudget) == 0);
  for (auto scheme :
       {sq::ActScheme::kPerToken, sq::ActScheme::kPerTensor, sq::ActScheme::kStatic}) {
    float const s = saturating_static_scale(y);
    check_codes(
        scheme,
        k.rows,
        k.cols,
        k.ld_out,
        s,
        expected_codes(scheme, y, k.rows, k.cols, s),
        [&](sqc::RowsOutput const& out) { return Op::get_workspace_size(args_for(out)); },
        launch);
  }
}

}  // namespace

TEST_CASE_TEMPLATE(
    "Sm80_SwiGluQuantize: float and codes vs cpu::swiglu", T, float, __half, __nv_bfloat16) {
  std::uint32_t seed = 100;
  for (auto const& k : kCases) {
    glu_case<T, sq::activation::Silu>(k, seed++);
  }
}

TEST_CASE_TEMPLATE(
    "Sm80_GeGluQuantize: float and codes vs cpu::geglu", T, float, __half, __nv_bfloat16) {
  std::uint32_t seed = 200;
  for (auto const& k : kCases) {
    glu_case<T, sq::activation::GeluTanh>(k, seed++);
  }
}

TEST_CASE_TEMPLATE(
    "Sm80_RmsNormQuantize: float and codes vs cpu::rmsnorm", T, float, __half, __nv_bfloat16) {
  std::uint32_t seed = 300;
  for (auto const& k : kCases) {
    rmsnorm_case<T>(k, seed++);
  }
}
