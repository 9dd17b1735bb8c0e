// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file sm_80 W8A16 GEMM against cpu::linear_w8a16.
//! Two checks: (1) small-integer activations, where every fp32 partial sum is an exact
//! integer below 2^24 in any order, so f32 outputs must equal the CPU bit for bit (catches any
//! fragment-layout mistake exactly); (2) random normal activations with an error bound from
//! the sum of |x| |w| (fp32 reordering) plus one rounding to the output type.
#include "gemm_reference.hpp"
#include "gemm_test_util.cuh"
#include "spikequant/cuda/device/w8a16_gemm.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"

#include <cmath>
#include <cstdint>
#include <doctest/doctest.h>
#include <random>
#include <span>
#include <vector>

namespace {
namespace sq = spikequant;
namespace sqc = spikequant::cuda;
namespace tg = spikequant_test::gemm;

struct Shape {
  std::int64_t m, n, k;
};
Shape const kShapes[] = {{37, 65, 96}, {1, 72, 64}, {300, 260, 1024}, {129, 33, 48}};
sqc::GemmTile const kTiles[] = {sqc::kSm80W8A16TileLarge, sqc::kSm80W8A16TileSmall};

//! Runs one case and compares; `integer` selects activations in {-8..8} \ {0}.
void run_case(
    Shape s,
    sqc::GemmElement x_type,
    sqc::GemmElement d_type,
    sqc::GemmTile tile,
    bool integer,
    bool with_bias) {
  std::int64_t const ldx = s.k + 8;  // padded rows (16-byte multiple)
  std::mt19937 gen(static_cast<std::uint32_t>(s.m * 131 + s.n * 7 + s.k));
  std::vector<float> x(static_cast<std::size_t>(s.m * s.k));
  if (integer) {
    std::uniform_int_distribution<int> dist(-8, 7);
    for (auto& v : x) {
      int const i = dist(gen);
      v = static_cast<float>(i >= 0 ? i + 1 : i);
    }
  } else {
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (auto& v : x) {
      v = dist(gen);
      v = v == 0.0f ? 0.5f : v;
    }
  }
  x = tg::round_trip(x, x_type);  // the activations the GPU sees, widened exactly
  // (M, ldx) in x_type; padding columns hold NaN, which must never be read.
  std::vector<float> x_padded(static_cast<std::size_t>(s.m * ldx), std::nanf(""));
  for (std::int64_t r = 0; r < s.m; ++r) {
    for (std::int64_t c = 0; c < s.k; ++c) {
      x_padded[static_cast<std::size_t>(r * ldx + c)] = x[static_cast<std::size_t>(r * s.k + c)];
    }
  }
  auto const x_bytes = tg::to_element_bytes(x_padded, x_type);
  auto const w = tg::random_codes(s.n, s.k, s.k, 77);
  auto const scales = tg::random_scales(s.n, 1.0f / 127.0f, 78);
  auto const bias = with_bias ? tg::random_floats(s.n, 2.0f, 79) : std::vector<float>{};

  sqc::DeviceBuffer<unsigned char> dx(std::span<unsigned char const>{x_bytes});
  sqc::DeviceBuffer<std::int8_t> dw(std::span<std::int8_t const>{w});
  sqc::DeviceBuffer<float> ds(std::span<float const>{scales});
  sqc::DeviceBuffer<float> db(std::max<std::size_t>(bias.size(), 1));
  if (with_bias) {
    db.upload(std::span<float const>{bias});
  }
  tg::PoisonedOutput out(d_type, s.m, s.n, s.n);
  sqc::W8A16GemmArguments args;
  args.m = s.m;
  args.n = s.n;
  args.k = s.k;
  args.x = dx.data();
  args.ldx = ldx;
  args.x_type = x_type;
  args.w = dw.data();
  args.ldw = s.k;
  args.w_scales = ds.data();
  args.bias = with_bias ? db.data() : nullptr;
  args.d = out.data();
  args.ldd = s.n;
  args.d_type = d_type;
  sqc::W8A16Gemm::run_with_tile(args, tile, nullptr);
  auto const got = out.download_checked();

  std::vector<float> ref(got.size());
  spikequant_test::gemm_ref::linear_w8a16(
      x.data(), w.data(), scales, bias, s.m, s.n, s.k, ref.data());
  if (integer && d_type == sqc::GemmElement::kFloat32) {
    tg::expect_close(got, ref, {0.0, 0.0}, s.n);  // exact
    return;
  }
  // Reordering bound: both sides sum K exact products in fp32 (tensor-core adds may truncate),
  // |error| <= 2 * K * 2^-23 * sum_k |x w| * s, plus the output rounding (tolerance_of).
  std::vector<float> ax(x.size());
  std::vector<std::int8_t> aw(w.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    ax[i] = std::fabs(x[i]);
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    aw[i] = static_cast<std::int8_t>(w[i] == -128 ? 127 : (w[i] < 0 ? -w[i] : w[i]));
  }
  std::vector<float> absref(got.size());
  spikequant_test::gemm_ref::linear_w8a16(
      ax.data(), aw.data(), scales, {}, s.m, s.n, s.k, absref.data());
  std::vector<float> slack(got.size());
  double const per = 2.0 * static_cast<double>(s.k) * std::ldexp(1.0, -23);
  for (std::size_t i = 0; i < slack.size(); ++i) {
    slack[i] = static_cast<float>(per * 1.01 * static_cast<double>(absref[i]));  // |-128| ~ 127
  }
  tg::expect_close(got, ref, tg::tolerance_of(d_type), s.n, slack);
}
}  // namespace

TEST_CASE("Sm80_W8A16Gemm: integer activations give exact f32 results") {
  for (Shape const s : kShapes) {
    for (sqc::GemmTile const tile : kTiles) {
      for (sqc::GemmElement const xt : {sqc::GemmElement::kFloat16, sqc::GemmElement::kBFloat16}) {
        for (bool const bias : {false, true}) {
          CAPTURE(s.m);
          CAPTURE(s.n);
          CAPTURE(s.k);
          CAPTURE(sqc::to_string(xt));
          CAPTURE(bias);
          run_case(s, xt, sqc::GemmElement::kFloat32, tile, true, bias);
        }
      }
    }
  }
}

TEST_CASE("Sm80_W8A16Gemm: random activations within the fp32 reordering bound") {
  for (Shape const s : kShapes) {
    for (sqc::GemmTile const tile : kTiles) {
      for (sqc::GemmElement const xt : {sqc::GemmElement::kFloat16, sqc::GemmElement::kBFloat16}) {
        for (sqc::GemmElement const dt :
             {sqc::GemmElement::kFloat32,
              sqc::GemmElement::kFloat16,
              sqc::GemmElement::kBFloat16}) {
          CAPTURE(s.m);
          CAPTURE(s.n);
          CAPTURE(s.k);
          CAPTURE(sqc::to_string(xt));
          CAPTURE(sqc::to_string(dt));
          run_case(s, xt, dt, tile, false, true);
        }
      }
    }
  }
}

TEST_CASE("Sm80_W8A16Gemm default tile and argument rejection") {
  run_case(
      {1, 65, 96},
      sqc::GemmElement::kFloat16,
      sqc::GemmElement::kFloat16,
      sqc::kSm80W8A16TileSmall,
      false,
      false);
  sqc::W8A16GemmArguments args;
  args.m = 4;
  args.n = 8;
  args.k = 24;  // K % 16 != 0
  sqc::DeviceBuffer<float> buf(256);
  args.x = buf.data();
  args.ldx = 32;
  args.w = reinterpret_cast<std::int8_t const*>(buf.data());
  args.ldw = 32;
  args.w_scales = buf.data();
  args.d = buf.data();
  args.ldd = 8;
  try {
    sqc::W8A16Gemm::run(args, nullptr);
    FAIL("K = 24 accepted");
  } catch (sq::Error const& e) {
    CHECK(e.kind() == sq::ErrorKind::kShape);
  }
}

#if defined(SPIKEQUANT_SIMT)
#  include "bank_check.hpp"

// ldmatrix of x and the ld.shared.u16 weight loads (pitch BK + 16 bytes) are conflict-free
// by the kernel's comments; the emulator counts the wavefronts.
TEST_CASE("Sm80_W8A16Gemm: shared-memory reads are bank-conflict free (SIMT emulator)") {
  for (sqc::GemmTile const tile : kTiles) {
    CAPTURE(tile);
    sq::simt::bank_stats().reset();
    run_case(
        Shape{37, 65, 96},
        sqc::GemmElement::kFloat16,
        sqc::GemmElement::kFloat32,
        tile,
        true,
        false);
    spikequant_test::check_bank_conflict_free({"ldmatrix.x4", "ld.shared"});
  }
}
#endif
