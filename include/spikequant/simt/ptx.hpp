// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Emulated forms of the PTX the kernels use (cuda/arch/ calls these in a SIMT build):
//! cp.async with commit/wait groups, ldmatrix.x4, mma.sync m16n8k32 s8 and m16n8k16 f16/bf16,
//! and plain shared loads/stores, all through the block's shadow checks. The fragment tables
//! here are the ones documented in cuda/arch/sm80_mma.cuh; scripts/gpu-check.sh compares them
//! with the hardware's on a GPU.
#pragma once

#include "spikequant/simt/block.hpp"
#include "spikequant/simt/launch.hpp"

#include <cstdint>
#include <cstring>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace spikequant::inline v0::simt {

// ---- cp.async: lands at the issuing thread's wait_group, the latest moment PTX allows --------

//! cp.async.cg.shared.global: `src_bytes` (0 or 16) from `src`, then zeros, into 16 bytes at dst.
inline void
cp_async(std::uint32_t dst, void const* src, std::uint32_t src_bytes, Site const& site) {
  Block& b = this_block();
  ThreadState& t = b.current();
  if (dst % 16 != 0) {
    b.fail("cp.async: shared destination " + std::to_string(dst) + " is not 16-byte aligned", site);
  }
  if (src_bytes > 0 && reinterpret_cast<std::uintptr_t>(src) % 16 != 0) {
    b.fail("cp.async: global source is not 16-byte aligned", site);
  }
  if (src_bytes > 0 && !device_state().in_allocation(src, src_bytes)) {
    b.fail("cp.async: global source range is outside every cudaMalloc allocation", site);
  }
  if (auto e = b.smem.check_write(t.tid, dst, 16, b.epoch); !e.empty()) {
    b.fail("cp.async: " + e, site);
  }
  b.smem.begin_copy(t.tid, dst, 16);
  t.open_group.push_back(AsyncCopy{dst, src, 16, src_bytes, site});
}

inline void cp_async_commit() {
  ThreadState& t = this_thread();
  t.groups.push_back(std::move(t.open_group));
  t.open_group.clear();
}

//! cp.async.wait_group pending: the oldest groups land until at most `pending` remain.
inline void cp_async_wait(int pending) {
  Block& b = this_block();
  ThreadState& t = b.current();
  while (static_cast<int>(t.groups.size()) > pending) {
    for (AsyncCopy const& c : t.groups.front()) {
      unsigned char* d = b.smem.data() + c.dst;
      std::memcpy(d, c.src, c.src_bytes);
      std::memset(d + c.src_bytes, 0, c.bytes - c.src_bytes);
      b.smem.wrote(t.tid, c.dst, c.bytes, b.epoch);
    }
    t.groups.pop_front();
  }
}

// ---- plain shared loads and stores --------------------------------------------------------

inline std::uint32_t shared_offset(void const* p, Site const& site) {
  Block& b = this_block();
  std::int64_t const off = b.smem.offset_of(p);
  if (off < 0) {
    b.fail("address is not in this block's shared memory", site);
  }
  return static_cast<std::uint32_t>(off);
}

template <class T>
T ld_shared(std::uint32_t addr, Site const& site) {
  Block& b = this_block();
  if (addr % alignof(T) != 0) {
    b.fail("ld.shared: misaligned address " + std::to_string(addr), site);
  }
  b.shared_access(site, "ld.shared", addr, sizeof(T), false);
  T v;
  std::memcpy(&v, b.smem.data() + addr, sizeof(T));
  return v;
}

template <class T>
void st_shared(std::uint32_t addr, T const& v, Site const& site) {
  Block& b = this_block();
  if (addr % alignof(T) != 0) {
    b.fail("st.shared: misaligned address " + std::to_string(addr), site);
  }
  b.shared_access(site, "st.shared", addr, sizeof(T), true);
  std::memcpy(b.smem.data() + addr, &v, sizeof(T));
}

// ---- warp collectives -----------------------------------------------------------------------

namespace detail {
struct LdmatrixLane {
  std::uint32_t addr;
  std::uint32_t* r;  // 4 registers
  int tid;
};

inline void ldmatrix_x4_op(LaneOperands const* ops, unsigned) {
  Block& b = this_block();
  auto lane = [&](int l) { return static_cast<LdmatrixLane*>(ops[l]); };
  unsigned char rows[4][8][16];
  for (int j = 0; j < 4; ++j) {
    LaneAccess phase[8];
    for (int row = 0; row < 8; ++row) {
      LdmatrixLane const& src = *lane(8 * j + row);
      if (src.addr % 16 != 0) {
        b.fail(
            "ldmatrix: row address " + std::to_string(src.addr) + " of lane " +
                std::to_string(8 * j + row) + " is not 16-byte aligned",
            b.current().site);
      }
      if (auto e = b.smem.read(src.tid, src.addr, 16, b.epoch); !e.empty()) {
        b.fail("ldmatrix: " + e, b.current().site);
      }
      std::memcpy(rows[j][row], b.smem.data() + src.addr, 16);
      phase[row] = LaneAccess{src.addr, 16};
    }
    bank_stats().record(b.current().site, "ldmatrix.x4", phase, 1);
  }
  for (int l = 0; l < 32; ++l) {
    for (int j = 0; j < 4; ++j) {
      std::memcpy(&lane(l)->r[j], &rows[j][l / 4][4 * (l % 4)], 4);
    }
  }
}

struct MmaS8Lane {
  std::int32_t* d;
  std::uint32_t const* a;
  std::uint32_t const* b;
};

inline std::int8_t byte_of(std::uint32_t r, int i) {
  return static_cast<std::int8_t>((r >> (8 * i)) & 0xffu);
}

//! m16n8k32 s8: A (16 x 32) row, B (32 x 8) col, D (16 x 8) s32 with wrapping adds.
inline void mma_s8_op(LaneOperands const* ops, unsigned) {
  std::int32_t A[16][32];
  std::int32_t B[32][8];
  for (int l = 0; l < 32; ++l) {
    auto const& x = *static_cast<MmaS8Lane*>(ops[l]);
    int const g = l / 4;
    int const t = l % 4;
    for (int i = 0; i < 4; ++i) {
      A[g][4 * t + i] = byte_of(x.a[0], i);
      A[g + 8][4 * t + i] = byte_of(x.a[1], i);
      A[g][16 + 4 * t + i] = byte_of(x.a[2], i);
      A[g + 8][16 + 4 * t + i] = byte_of(x.a[3], i);
      B[4 * t + i][g] = byte_of(x.b[0], i);
      B[16 + 4 * t + i][g] = byte_of(x.b[1], i);
    }
  }
  for (int l = 0; l < 32; ++l) {
    auto const& x = *static_cast<MmaS8Lane*>(ops[l]);
    int const g = l / 4;
    int const t = l % 4;
    int const rows[4] = {g, g, g + 8, g + 8};
    int const cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
    for (int r = 0; r < 4; ++r) {
      std::int64_t dot = 0;
      for (int k = 0; k < 32; ++k) {
        dot += A[rows[r]][k] * B[k][cols[r]];
      }
      // s32 accumulation wraps (two's complement), as the tensor core does.
      x.d[r] = static_cast<std::int32_t>(
          static_cast<std::uint32_t>(x.d[r]) + static_cast<std::uint32_t>(dot));
    }
  }
}

struct MmaF16Lane {
  float* d;
  std::uint32_t const* a;
  std::uint32_t const* b;
};

template <bool Bf16>
float half_of(std::uint32_t r, int i) {
  auto const bits = static_cast<unsigned short>((r >> (16 * i)) & 0xffffu);
  if constexpr (Bf16) {
    __nv_bfloat16_raw raw;
    raw.x = bits;
    return __bfloat162float(__nv_bfloat16(raw));
  } else {
    __half_raw raw;
    raw.x = bits;
    return __half2float(__half(raw));
  }
}

//! m16n8k16 f16/bf16 -> f32. Products are exact in fp32; the 16-term sum plus the accumulator
//! is formed in double and rounded once, which is not the tensor core's internal order: f32
//! results agree with hardware within the GEMM budgets, not bit for bit.
template <bool Bf16>
void mma_f16_op(LaneOperands const* ops, unsigned) {
  float A[16][16];
  float B[16][8];
  for (int l = 0; l < 32; ++l) {
    auto const& x = *static_cast<MmaF16Lane*>(ops[l]);
    int const g = l / 4;
    int const t = l % 4;
    for (int i = 0; i < 2; ++i) {
      A[g][2 * t + i] = half_of<Bf16>(x.a[0], i);
      A[g + 8][2 * t + i] = half_of<Bf16>(x.a[1], i);
      A[g][2 * t + 8 + i] = half_of<Bf16>(x.a[2], i);
      A[g + 8][2 * t + 8 + i] = half_of<Bf16>(x.a[3], i);
      B[2 * t + i][g] = half_of<Bf16>(x.b[0], i);
      B[2 * t + 8 + i][g] = half_of<Bf16>(x.b[1], i);
    }
  }
  for (int l = 0; l < 32; ++l) {
    auto const& x = *static_cast<MmaF16Lane*>(ops[l]);
    int const g = l / 4;
    int const t = l % 4;
    int const rows[4] = {g, g, g + 8, g + 8};
    int const cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
    for (int r = 0; r < 4; ++r) {
      double s = x.d[r];
      for (int k = 0; k < 16; ++k) {
        s += static_cast<double>(A[rows[r]][k]) * static_cast<double>(B[k][cols[r]]);
      }
      x.d[r] = static_cast<float>(s);
    }
  }
}

template <class T>
struct ShflLane {
  T value;
  int src_lane;  // lane to read from, or -1: keep own value
  T result;
};

template <class T>
void shfl_op(LaneOperands const* ops, unsigned mask) {
  for (int l = 0; l < 32; ++l) {
    if ((mask >> l) & 1u) {
      auto& x = *static_cast<ShflLane<T>*>(ops[l]);
      int const s = x.src_lane;
      bool const ok = s >= 0 && s < 32 && ((mask >> s) & 1u);
      x.result = ok ? static_cast<ShflLane<T>*>(ops[s])->value : x.value;
    }
  }
}

inline void no_op(LaneOperands const*, unsigned) {}
}  // namespace detail

//! ldmatrix.sync.aligned.m8n8.x4.shared.b16 (layout: cuda/arch/sm80_mma.cuh).
inline void ldmatrix_x4(std::uint32_t (&r)[4], std::uint32_t addr, Site const& site) {
  Block& b = this_block();
  detail::LdmatrixLane mine{addr, r, b.current().tid};
  b.warp_op(site, "ldmatrix.x4", &detail::ldmatrix_x4_op, &mine, 0xffffffffu);
}

inline void mma_s8_16x8x32(
    std::int32_t (&d)[4],
    std::uint32_t const (&a)[4],
    std::uint32_t const (&b)[2],
    Site const& site) {
  detail::MmaS8Lane mine{d, a, b};
  this_block().warp_op(site, "mma.m16n8k32.s8", &detail::mma_s8_op, &mine, 0xffffffffu);
}

template <bool Bf16>
void mma_f32_16x8x16(
    float (&d)[4], std::uint32_t const (&a)[4], std::uint32_t const (&b)[2], Site const& site) {
  detail::MmaF16Lane mine{d, a, b};
  this_block().warp_op(
      site,
      Bf16 ? "mma.m16n8k16.bf16" : "mma.m16n8k16.f16",
      &detail::mma_f16_op<Bf16>,
      &mine,
      0xffffffffu);
}

//! __shfl_*_sync core: every lane of `mask` gives `v` and reads lane `src` (out of range or
//! outside the mask: its own value, as the hardware's clamp does for the sync forms).
template <class T>
T shfl(unsigned mask, T v, int src, Site const& site) {
  detail::ShflLane<T> mine{v, src, v};
  this_block().warp_op(site, "shfl.sync", &detail::shfl_op<T>, &mine, mask);
  return mine.result;
}

inline void syncwarp(unsigned mask, Site const& site) {
  this_block().warp_op(site, "bar.warp.sync", &detail::no_op, nullptr, mask);
}

}  // namespace spikequant::v0::simt
