// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file sm_80 INT8 tensor-core GEMM against the CPU reference: exact int32 accumulators and
//! the fused dequant epilogue (per-token / per-tensor scales, bias, residual; f32/f16/bf16),
//! on shapes that are not multiples of either tile, with poisoned outputs and a guard region.
#include "gemm_reference.hpp"
#include "gemm_test_util.cuh"
#include "spikequant/cuda/device/gemm.cuh"
#include "spikequant/cuda/runtime/device.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"

#include <algorithm>
#include <cstdint>
#include <doctest/doctest.h>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace sq = spikequant;
namespace sqc = spikequant::cuda;
namespace tg = spikequant_test::gemm;

struct Shape {
  std::int64_t m, n, k;
};

// Not multiples of 128 / 32 in M or N; K with a 16-element tail (K % 32 == 16) and K spanning
// several pipeline rounds (K / block_k > stages).
Shape const kShapes[] = {
    {37, 65, 96},
    {1, 72, 64},
    {1, 130, 16},
    {300, 260, 1024},
    {128, 128, 64},
    {129, 33, 48},
    {64, 256, 2064},
};
sqc::GemmTile const kTiles[] = {sqc::kSm80Int8TileLarge, sqc::kSm80Int8TileSmall};

std::string name(Shape s, sqc::GemmTile t) {
  std::ostringstream os;
  os << "M=" << s.m << " N=" << s.n << " K=" << s.k << " tile " << t;
  return os.str();
}

struct Operands {
  Shape s;
  std::int64_t lda, ldb;
  std::vector<std::int8_t> a, b;  // (M, lda), (N, ldb)
  std::vector<std::int32_t> acc;  // (M, N) CPU reference
  sqc::DeviceBuffer<std::int8_t> da, db;

  Operands(Shape s_, std::int64_t pad, std::uint32_t seed)
      : s(s_)
      , lda(s_.k + pad)
      , ldb(s_.k + pad)
      , a(tg::random_codes(s_.m, s_.k, s_.k + pad, seed))
      , b(tg::random_codes(s_.n, s_.k, s_.k + pad, seed + 1))
      , acc(static_cast<std::size_t>(s_.m * s_.n))
      , da(std::span<std::int8_t const>(a))
      , db(std::span<std::int8_t const>(b)) {
    auto const ad = tg::dense(a, s.m, s.k, lda);
    auto const bd = tg::dense(b, s.n, s.k, ldb);
    spikequant_test::gemm_ref::gemm_s8s8s32(ad.data(), bd.data(), acc.data(), s.m, s.n, s.k);
  }

  sqc::Int8GemmArguments args(void* d, std::int64_t ldd, sqc::GemmElement t) const {
    sqc::Int8GemmArguments g;
    g.m = s.m;
    g.n = s.n;
    g.k = s.k;
    g.a = da.data();
    g.lda = lda;
    g.b = db.data();
    g.ldb = ldb;
    g.d = d;
    g.ldd = ldd;
    g.d_type = t;
    return g;
  }
};
}  // namespace

TEST_CASE("Sm80_Int8Gemm_s8s8s32: raw accumulators equal cpu::gemm_s8s8s32 exactly") {
  for (Shape const s : kShapes) {
    for (std::int64_t const pad : {0, 16}) {
      Operands const op(s, pad, 11);
      for (sqc::GemmTile const tile : kTiles) {
        CAPTURE(name(s, tile));
        CAPTURE(pad);
        std::int64_t const ldd = s.n + (pad != 0 ? 3 : 0);  // odd ldd: scalar store path
        tg::PoisonedOutput out(sqc::GemmElement::kInt32, s.m, s.n, ldd);
        sqc::Int8Gemm::run_with_tile(
            op.args(out.data(), ldd, sqc::GemmElement::kInt32), tile, nullptr);
        SPIKEQUANT_CUDA_CHECK(cudaGetLastError());
        std::vector<std::int64_t> got;
        (void)out.download_checked(&got);
        std::int64_t mismatches = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
          if (got[i] != op.acc[i]) {
            if (mismatches < 5) {
              MESSAGE(
                  "acc(",
                  i / static_cast<std::size_t>(s.n),
                  ", ",
                  i % static_cast<std::size_t>(s.n),
                  ") = ",
                  got[i],
                  ", expected ",
                  op.acc[i]);
            }
            ++mismatches;
          }
        }
        CHECK(mismatches == 0);
      }
    }
  }
}

TEST_CASE("Sm80_Int8Gemm default tile selection runs (M = 1 and M = 300)") {
  for (Shape const s : {Shape{1, 65, 96}, Shape{300, 260, 1024}}) {
    Operands const op(s, 0, 5);
    tg::PoisonedOutput out(sqc::GemmElement::kInt32, s.m, s.n, s.n);
    sqc::Int8Gemm::run(op.args(out.data(), s.n, sqc::GemmElement::kInt32), nullptr);
    std::vector<std::int64_t> got;
    (void)out.download_checked(&got);
    CHECK(std::equal(got.begin(), got.end(), op.acc.begin()));
  }
}

TEST_CASE("Sm80_Int8Gemm fused dequant epilogue matches cpu::dequant_epilogue") {
  sqc::GemmElement const types[] = {
      sqc::GemmElement::kFloat32, sqc::GemmElement::kFloat16, sqc::GemmElement::kBFloat16};
  for (Shape const s : {Shape{37, 65, 96}, Shape{1, 72, 64}, Shape{300, 260, 1024}}) {
    Operands const op(s, 0, 23);
    // Scales ~ 1/127 like real absmax scales: outputs are O(sqrt(K)).
    auto const act_tok = tg::random_scales(s.m, 1.0f / 127.0f, 3);
    auto const act_ten = tg::random_scales(1, 1.0f / 127.0f, 4);
    auto const w_ch = tg::random_scales(s.n, 1.0f / 127.0f, 5);
    auto const w_ten = tg::random_scales(1, 1.0f / 127.0f, 6);
    auto const bias = tg::random_floats(s.n, 4.0f, 7);
    auto const residual = tg::random_floats(s.m * s.n, 8.0f, 8);
    sqc::DeviceBuffer<float> d_act_tok(std::span<float const>{act_tok});
    sqc::DeviceBuffer<float> d_act_ten(std::span<float const>{act_ten});
    sqc::DeviceBuffer<float> d_w_ch(std::span<float const>{w_ch});
    sqc::DeviceBuffer<float> d_w_ten(std::span<float const>{w_ten});
    sqc::DeviceBuffer<float> d_bias(std::span<float const>{bias});
    for (sqc::GemmElement const t : types) {
      // The residual is stored in the output type; the reference sees its exact widening.
      auto const res_bytes = tg::to_element_bytes(residual, t);
      auto const res_ref = tg::round_trip(residual, t);
      sqc::DeviceBuffer<unsigned char> d_res(std::span<unsigned char const>{res_bytes});
      for (bool const per_token : {true, false}) {
        for (bool const per_channel : {true, false}) {
          for (bool const with_bias : {false, true}) {
            for (bool const with_res : {false, true}) {
              for (sqc::GemmTile const tile : kTiles) {
                CAPTURE(name(s, tile));
                CAPTURE(sqc::to_string(t));
                CAPTURE(per_token);
                CAPTURE(per_channel);
                CAPTURE(with_bias);
                CAPTURE(with_res);
                tg::PoisonedOutput out(t, s.m, s.n, s.n);
                auto g = op.args(out.data(), s.n, t);
                g.epilogue.act_scales = per_token ? d_act_tok.data() : d_act_ten.data();
                g.epilogue.act_scales_size = per_token ? s.m : 1;
                g.epilogue.weight_scales = per_channel ? d_w_ch.data() : d_w_ten.data();
                g.epilogue.weight_scales_size = per_channel ? s.n : 1;
                g.epilogue.bias = with_bias ? d_bias.data() : nullptr;
                g.epilogue.residual = with_res ? d_res.data() : nullptr;
                g.epilogue.ld_residual = s.n;
                sqc::Int8Gemm::run_with_tile(g, tile, nullptr);
                auto const got = out.download_checked();

                std::vector<float> ref(static_cast<std::size_t>(s.m * s.n));
                spikequant_test::gemm_ref::dequant_epilogue(
                    op.acc.data(),
                    s.m,
                    s.n,
                    per_token ? act_tok : act_ten,
                    per_channel ? w_ch : w_ten,
                    with_bias ? bias : std::vector<float>{},
                    with_res ? res_ref.data() : nullptr,
                    ref.data());
                tg::expect_close(got, ref, tg::tolerance_of(t), s.n);
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("Sm80_Int8Gemm run rejects bad arguments before launching") {
  Operands const op(Shape{37, 64, 96}, 0, 1);
  tg::PoisonedOutput out(sqc::GemmElement::kInt32, 37, 64, 64);
  auto g = op.args(out.data(), 64, sqc::GemmElement::kInt32);
  g.a = op.da.data() + 1;  // misaligned activation pointer
  CHECK_THROWS_AS(sqc::Int8Gemm::run(g, nullptr), sq::Error);
  try {
    sqc::Int8Gemm::run(g, nullptr);
  } catch (sq::Error const& e) {
    CHECK(e.kind() == sq::ErrorKind::kAlignment);
  }
  g = op.args(out.data(), 64, sqc::GemmElement::kInt32);
  g.k = 88;  // K % 16 != 0
  try {
    sqc::Int8Gemm::run(g, nullptr);
    FAIL("K = 88 accepted");
  } catch (sq::Error const& e) {
    CHECK(e.kind() == sq::ErrorKind::kShape);
  }
  CHECK(out.untouched());  // rejected before any launch
}

#if defined(SPIKEQUANT_SIMT)
#  include "bank_check.hpp"

// The kernel's static_assert says an odd number of 16-byte chunks per row keeps ldmatrix
// conflict-free; the emulator counts the wavefronts of every ldmatrix phase.
TEST_CASE("Sm80_Int8Gemm: ldmatrix reads are bank-conflict free (SIMT emulator)") {
  for (sqc::GemmTile const tile : kTiles) {
    CAPTURE(tile);
    sq::simt::bank_stats().reset();
    Operands const op(Shape{70, 72, 160}, 0, 5);
    tg::PoisonedOutput out(sqc::GemmElement::kInt32, 70, 72, 72);
    sqc::Int8Gemm::run_with_tile(op.args(out.data(), 72, sqc::GemmElement::kInt32), tile, nullptr);
    spikequant_test::check_bank_conflict_free({"ldmatrix.x4"});
  }
}
#endif

TEST_CASE("Sm80_Int8Gemm: can_implement returns a Status, check throws the same verdict") {
  Operands const op(Shape{37, 64, 96}, 0, 1);
  tg::PoisonedOutput out(sqc::GemmElement::kInt32, 37, 64, 64);
  auto good = op.args(out.data(), 64, sqc::GemmElement::kInt32);
  CHECK(sqc::Int8Gemm::can_implement(good).ok());
  auto bad = good;
  bad.k = 40;  // not a multiple of 16
  sq::Status const s = sqc::Int8Gemm::can_implement(bad);
  CHECK_FALSE(s.ok());
  CHECK(s.kind() == sq::ErrorKind::kShape);
  CHECK(s.message().find("multiple of 16") != std::string::npos);
  CHECK_THROWS_WITH_AS(sqc::Int8Gemm::check(bad), s.message().c_str(), sq::Error);
}

TEST_CASE("Sm80_Int8Gemm object: checked once, then run repeatedly with the same result") {
  Operands const op(Shape{37, 65, 96}, 0, 7);
  tg::PoisonedOutput out(sqc::GemmElement::kInt32, 37, 65, 65);
  sqc::Int8Gemm const gemm(op.args(out.data(), 65, sqc::GemmElement::kInt32));
  CHECK(
      gemm.tile() ==
      sqc::Int8Gemm::default_tile(
          op.args(out.data(), 65, sqc::GemmElement::kInt32), sqc::compute_capability()));
  for (int rep = 0; rep < 2; ++rep) {
    gemm.run(nullptr);
    std::vector<std::int64_t> got;
    (void)out.download_checked(&got);
    CHECK(std::equal(got.begin(), got.end(), op.acc.begin()));
  }
#if defined(SPIKEQUANT_SIMT)
  // The emulated runtime counts host-side CUDA calls: a planned GEMM's run makes none beyond
  // the launch (no attribute queries, no cudaFuncSetAttribute).
  auto const& dev = sq::simt::device_state();
  auto const queries = dev.device_queries;
  auto const sets = dev.attribute_sets;
  gemm.run(nullptr);
  gemm.run(nullptr);
  CHECK(dev.device_queries == queries);
  CHECK(dev.attribute_sets == sets);
#endif
  auto bad = op.args(out.data(), 65, sqc::GemmElement::kInt32);
  bad.lda = 97;
  CHECK_THROWS_AS(sqc::Int8Gemm{bad}, sq::Error);
}
