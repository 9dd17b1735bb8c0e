// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Probe kernels, one per PTX wrapper of cuda/arch/: each lane writes what the wrapper
//! gave it, and the host compares with the lane-to-element tables documented in
//! sm80_mma.cuh. On a GPU (scripts/gpu-check.sh) this checks the tables against the hardware;
//! in the SIMT build the same source checks the emulator against the same tables, so the
//! emulator and the hardware are held to one specification.
#include "spikequant/cuda/arch/shared.cuh"
#include "spikequant/cuda/arch/sm80_mma.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"
#include "spikequant/cuda/runtime/launch.cuh"

#include <cstdint>
#include <cstring>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <doctest/doctest.h>
#include <vector>

namespace {
namespace sqc = spikequant::cuda;
namespace arch = spikequant::cuda::arch;

struct Probe {
  std::uint32_t const* in = nullptr;  // wrapper inputs, layout per probe
  std::uint32_t* out = nullptr;       // 32 lanes x 4 registers
};

// ldmatrix.x4: matrix j row r holds the 16-bit elements j * 64 + r * 8 + e, e = 0..7.
__global__ void probe_ldmatrix(Probe p) {
  SPIKEQUANT_DYNAMIC_SHARED(std::uint16_t, smem, 16);
  int const lane = static_cast<int>(threadIdx.x);
  for (int i = lane; i < 256; i += 32) {
    arch::store_shared(smem + i, static_cast<std::uint16_t>(i));
  }
  __syncthreads();
  // Lanes 8j..8j+7 give the rows of matrix j.
  std::uint32_t const row_addr = arch::smem_address(smem) + static_cast<std::uint32_t>(16 * lane);
  std::uint32_t r[4];
  arch::ldmatrix_x4(r, row_addr);
  for (int j = 0; j < 4; ++j) {
    p.out[4 * lane + j] = r[j];
  }
}

// mma s8: `in` holds each lane's a[4], b[2] (6 words), d starts at 0.
__global__ void probe_mma_s8(Probe p) {
  int const lane = static_cast<int>(threadIdx.x);
  std::uint32_t const a[4] = {
      p.in[6 * lane], p.in[6 * lane + 1], p.in[6 * lane + 2], p.in[6 * lane + 3]};
  std::uint32_t const b[2] = {p.in[6 * lane + 4], p.in[6 * lane + 5]};
  std::int32_t d[4] = {0, 0, 0, 0};
  arch::mma_s8_16x8x32(d, a, b);
  for (int r = 0; r < 4; ++r) {
    p.out[4 * lane + r] = static_cast<std::uint32_t>(d[r]);
  }
}

template <bool Bf16>
__global__ void probe_mma_f16(Probe p) {
  int const lane = static_cast<int>(threadIdx.x);
  std::uint32_t const a[4] = {
      p.in[6 * lane], p.in[6 * lane + 1], p.in[6 * lane + 2], p.in[6 * lane + 3]};
  std::uint32_t const b[2] = {p.in[6 * lane + 4], p.in[6 * lane + 5]};
  float d[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  arch::mma_f32_16x8x16<Bf16>(d, a, b);
  for (int r = 0; r < 4; ++r) {
    std::memcpy(&p.out[4 * lane + r], &d[r], 4);
  }
}

__global__ void probe_ld_shared_u16(Probe p) {
  SPIKEQUANT_DYNAMIC_SHARED(std::uint16_t, smem, 16);
  int const lane = static_cast<int>(threadIdx.x);
  arch::store_shared(smem + lane, static_cast<std::uint16_t>(1000 + 3 * lane));
  __syncthreads();
  p.out[lane] =
      arch::ld_shared_u16(arch::smem_address(smem) + static_cast<std::uint32_t>(2 * (31 - lane)));
}

std::vector<std::uint32_t>
launch_probe(void (*k)(Probe), std::vector<std::uint32_t> const& in, std::size_t smem) {
  sqc::DeviceBuffer<std::uint32_t> din(in.empty() ? 1 : in.size());
  if (!in.empty()) {
    din.upload(std::span<std::uint32_t const>(in));
  }
  sqc::DeviceBuffer<std::uint32_t> dout(128);
  sqc::launch_kernel(k, dim3(1), dim3(32), smem, nullptr, Probe{din.data(), dout.data()});
  std::vector<std::uint32_t> out(128);
  dout.download(std::span<std::uint32_t>(out));
  SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
  return out;
}

std::uint32_t pack8(int v0, int v1, int v2, int v3) {
  auto b = [](int v) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(static_cast<std::int8_t>(v)));
  };
  return b(v0) | (b(v1) << 8) | (b(v2) << 16) | (b(v3) << 24);
}

template <bool Bf16>
std::uint32_t pack16(float lo, float hi) {
  std::uint16_t l, h;
  if constexpr (Bf16) {
    __nv_bfloat16 const x = __float2bfloat16_rn(lo), y = __float2bfloat16_rn(hi);
    std::memcpy(&l, &x, 2);
    std::memcpy(&h, &y, 2);
  } else {
    __half const x = __float2half_rn(lo), y = __float2half_rn(hi);
    std::memcpy(&l, &x, 2);
    std::memcpy(&h, &y, 2);
  }
  return static_cast<std::uint32_t>(l) | (static_cast<std::uint32_t>(h) << 16);
}

// Distinct small values: A(i, k), B(k, n) exact in int8 and in fp16 / bf16 products.
int a_val(int i, int k) {
  return (i * 7 + k * 3) % 11 - 5;
}
int b_val(int k, int n) {
  return (k * 5 + n * 13) % 9 - 4;
}

//! D(row, col) of accumulator register r of lane l (the d table of sm80_mma.cuh), summed
//! over K = `depth` by a naive loop.
int expected_d(int l, int r, int depth) {
  int const g = l / 4;
  int const t = l % 4;
  int const row = r < 2 ? g : g + 8;
  int const col = 2 * t + r % 2;
  int d = 0;
  for (int k = 0; k < depth; ++k) {
    d += a_val(row, k) * b_val(k, col);
  }
  return d;
}

}  // namespace

TEST_CASE(
    "PTX probe: ldmatrix.x4 gives lane l the bytes of row l / 4, 4 * (l % 4) of each matrix") {
  auto const out = launch_probe(&probe_ldmatrix, {}, 512);
  for (int l = 0; l < 32; ++l) {
    for (int j = 0; j < 4; ++j) {
      int const e0 = j * 64 + (l / 4) * 8 + 2 * (l % 4);
      std::uint32_t const want =
          static_cast<std::uint32_t>(e0) | (static_cast<std::uint32_t>(e0 + 1) << 16);
      CAPTURE(l);
      CAPTURE(j);
      CHECK(out[static_cast<std::size_t>(4 * l + j)] == want);
    }
  }
}

TEST_CASE("PTX probe: mma.m16n8k32 s8 fragments follow the documented table") {
  std::vector<std::uint32_t> in(32 * 6);
  for (int l = 0; l < 32; ++l) {
    int const g = l / 4, t = l % 4;
    auto row8 = [&](int i, int k0) {
      return pack8(a_val(i, k0), a_val(i, k0 + 1), a_val(i, k0 + 2), a_val(i, k0 + 3));
    };
    auto col8 = [&](int k0, int n) {
      return pack8(b_val(k0, n), b_val(k0 + 1, n), b_val(k0 + 2, n), b_val(k0 + 3, n));
    };
    std::uint32_t* x = &in[static_cast<std::size_t>(6 * l)];
    x[0] = row8(g, 4 * t);
    x[1] = row8(g + 8, 4 * t);
    x[2] = row8(g, 16 + 4 * t);
    x[3] = row8(g + 8, 16 + 4 * t);
    x[4] = col8(4 * t, g);
    x[5] = col8(16 + 4 * t, g);
  }
  auto const out = launch_probe(&probe_mma_s8, in, 0);
  for (int l = 0; l < 32; ++l) {
    for (int r = 0; r < 4; ++r) {
      CAPTURE(l);
      CAPTURE(r);
      CHECK(
          static_cast<std::int32_t>(out[static_cast<std::size_t>(4 * l + r)]) ==
          expected_d(l, r, 32));
    }
  }
}

TEST_CASE_TEMPLATE(
    "PTX probe: mma.m16n8k16 f16 / bf16 fragments follow the documented table",
    B,
    std::false_type,
    std::true_type) {
  constexpr bool kBf16 = B::value;
  std::vector<std::uint32_t> in(32 * 6);
  for (int l = 0; l < 32; ++l) {
    int const g = l / 4, t = l % 4;
    auto a2 = [&](int i, int k0) {
      return pack16<kBf16>(static_cast<float>(a_val(i, k0)), static_cast<float>(a_val(i, k0 + 1)));
    };
    auto b2 = [&](int k0, int n) {
      return pack16<kBf16>(static_cast<float>(b_val(k0, n)), static_cast<float>(b_val(k0 + 1, n)));
    };
    std::uint32_t* x = &in[static_cast<std::size_t>(6 * l)];
    x[0] = a2(g, 2 * t);
    x[1] = a2(g + 8, 2 * t);
    x[2] = a2(g, 2 * t + 8);
    x[3] = a2(g + 8, 2 * t + 8);
    x[4] = b2(2 * t, g);
    x[5] = b2(2 * t + 8, g);
  }
  auto const out = launch_probe(&probe_mma_f16<kBf16>, in, 0);
  for (int l = 0; l < 32; ++l) {
    for (int r = 0; r < 4; ++r) {
      int const want = expected_d(l, r, 16);
      float got = 0;
      std::memcpy(&got, &out[static_cast<std::size_t>(4 * l + r)], 4);
      CAPTURE(l);
      CAPTURE(r);
      CHECK(got == static_cast<float>(want) + 0.5f);  // small integers: exact on any order
    }
  }
}

TEST_CASE("PTX probe: ld.shared.u16 reads the addressed 2 bytes") {
  auto const out = launch_probe(&probe_ld_shared_u16, {}, 64);
  for (int l = 0; l < 32; ++l) {
    CHECK(out[static_cast<std::size_t>(l)] == static_cast<std::uint32_t>(1000 + 3 * (31 - l)));
  }
}
