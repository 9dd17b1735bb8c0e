// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file cuda::QuantizeRows vs cpu::quantize_* on random spiky data: codes and scales must be
//! bit-identical for f32 / f16 / bf16 inputs, vector and scalar paths, any K.
#include "cuda/rows_check.cuh"
#include "spikequant/cuda/device/quantize.cuh"

#include <cstdint>
#include <doctest/doctest.h>

namespace {
namespace sq = spikequant;
namespace sqc = spikequant::cuda;
using namespace spikequant_test;

struct Case {
  std::int64_t rows, cols, ld_x, ld_codes;
  std::size_t x_offset;  // elements; 1 misaligns x
  bool vectorized;       // expected path (f32 / f16 / bf16 alike for these shapes)
};

// M = 37 / K = 1000: vector path; K = 4099: unaligned rows -> scalar; K = 20000: past the
// register cache (8192 columns); cols 1001 in ld 1008: vector body + scalar tail; offset 1:
// misaligned pointer -> scalar; ld_codes 1016: row padding must stay untouched; 1 x 1.
constexpr Case kCases[] = {
    {37, 1000, 1000, 1000, 0, true},
    {37, 4099, 4099, 4099, 0, false},
    {3, 20000, 20000, 20000, 0, true},
    {6, 1001, 1008, 1008, 0, true},
    {4, 1000, 1003, 1001, 1, false},
    {9, 1000, 1000, 1016, 0, true},
    {1, 1, 1, 1, 0, false},
};

template <class T>
void run_case(sq::ActScheme scheme, Case const& k, std::uint32_t seed) {
  auto const in = random_rows<T>(k.rows, k.cols, k.ld_x, seed);
  auto x = upload_at(in.data, k.x_offset);
  float const static_scale = saturating_static_scale(in.dense);
  auto const want = expected_codes(scheme, in.dense, k.rows, k.cols, static_scale);
  using Q = sqc::QuantizeRows<T>;
  auto args_for = [&](sqc::RowsOutput const& out) {
    return typename Q::Arguments{{x.data() + k.x_offset, k.rows, k.cols, k.ld_x}, out};
  };
  INFO(
      sqc::element_name<T>,
      " ",
      sq::to_string(scheme),
      " (",
      k.rows,
      ", ",
      k.cols,
      ") ld ",
      k.ld_x,
      " offset ",
      k.x_offset);
  check_codes(
      scheme,
      k.rows,
      k.cols,
      k.ld_codes,
      static_scale,
      want,
      [&](sqc::RowsOutput const& out) { return Q::get_workspace_size(args_for(out)); },
      [&](sqc::RowsOutput const& out, void* ws, std::size_t bytes) {
        auto const args = args_for(out);
        CHECK(Q::is_vectorized(args) == k.vectorized);
        Q::run(args, ws, bytes, nullptr);
      });
}

}  // namespace

TEST_CASE_TEMPLATE(
    "Sm80_QuantizeRows matches cpu::quantize exactly", T, float, __half, __nv_bfloat16) {
  std::uint32_t seed = 1;
  for (auto scheme :
       {sq::ActScheme::kPerToken, sq::ActScheme::kPerTensor, sq::ActScheme::kStatic}) {
    for (auto const& k : kCases) {
      run_case<T>(scheme, k, seed++);
    }
  }
}

TEST_CASE("Sm80_QuantizeRows: NaN input gives a NaN scale, zero rows give scale 1") {
  std::int64_t const rows = 3;
  std::int64_t const cols = 64;
  std::vector<float> host(static_cast<std::size_t>(rows * cols), 0.0f);
  host[5] = std::nanf("");  // row 0 poisoned; row 1 all zero; row 2 ordinary
  for (std::int64_t c = 0; c < cols; ++c) {
    host[static_cast<std::size_t>(2 * cols + c)] = static_cast<float>(c) - 20.0f;
  }
  sqc::DeviceBuffer<float> x{std::span<float const>(host)};
  sqc::DeviceBuffer<std::int8_t> codes(host.size());
  sqc::DeviceBuffer<float> scales(rows);
  sqc::QuantizeRows<float>::run(
      {{x.data(), rows, cols, cols},
       {sq::ActScheme::kPerToken, {codes.data(), rows, cols, cols}, {scales.data(), 3}, 0.f, {}}},
      nullptr,
      0);
  std::vector<float> s(3);
  scales.download(s);
  SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
  CHECK(std::isnan(s[0]));
  CHECK(s[1] == 1.0f);
  CHECK(s[2] == 43.0f / 127.0f);
}
