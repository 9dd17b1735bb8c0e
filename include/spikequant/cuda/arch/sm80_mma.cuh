// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file PTX wrappers for sm_80+ GEMMs: cp.async (16 bytes, zero-fill), ldmatrix.x4 and
//! mma.sync m16n8k32 (s8) / m16n8k16 (f16, bf16), each with its register layout documented.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/arch/simt_site.cuh"

#include <cstdint>
#include <cuda_runtime.h>

namespace spikequant::inline v0::cuda::arch {

//! Stops the kernel when a device pass compiles code for an architecture it cannot run on.
//! Only reachable when a translation unit targets an arch below sm_80 (never in 80;90a builds).
SPIKEQUANT_DEVICE void invalid_arch_trap() {
#if defined(__CUDA_ARCH__)
  __trap();
#endif
}

//! Shared-memory address (32-bit, .shared window) of a generic pointer into shared memory.
SPIKEQUANT_DEVICE std::uint32_t smem_address(void const* ptr SPIKEQUANT_SIMT_SITE) {
#if defined(SPIKEQUANT_SIMT)
  return simt::shared_offset(ptr, site);
#else
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(ptr));
#endif
}

//! cp.async.cg 16 bytes global -> shared; copies nothing and writes 16 zero bytes when
//! `pred` is false (src-size 0). `src` must still be a valid address: callers pass the
//! matrix base pointer for predicated-off chunks.
//! - Preconditions: `dst` and `src` are 16-byte aligned.
SPIKEQUANT_DEVICE void
cp_async_16_zfill(std::uint32_t dst, void const* src, bool pred SPIKEQUANT_SIMT_SITE) {
#if defined(SPIKEQUANT_SIMT)
  simt::cp_async(dst, src, pred ? 16u : 0u, site);
#elif defined(SPIKEQUANT_ARCH_SM80_ENABLED)
  int const src_size = pred ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_size)
               : "memory");
#else
  (void)dst;
  (void)src;
  (void)pred;
  invalid_arch_trap();
#endif
}

//! Closes the current group of cp.async operations issued by this thread.
SPIKEQUANT_DEVICE void cp_async_commit() {
#if defined(SPIKEQUANT_SIMT)
  simt::cp_async_commit();
#elif defined(SPIKEQUANT_ARCH_SM80_ENABLED)
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#else
  invalid_arch_trap();
#endif
}

//! Waits until at most `Pending` of this thread's committed cp.async groups are in flight.
//! Other threads' copies become visible only after a following __syncthreads().
template <int Pending>
SPIKEQUANT_DEVICE void cp_async_wait() {
#if defined(SPIKEQUANT_SIMT)
  simt::cp_async_wait(Pending);
#elif defined(SPIKEQUANT_ARCH_SM80_ENABLED)
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending) : "memory");
#else
  invalid_arch_trap();
#endif
}

//! ldmatrix.sync.aligned.m8n8.x4.shared.b16: four 8x8 matrices of 16-bit elements
//! (8 rows x 16 bytes each). Lanes 8j..8j+7 give the row addresses of matrix j; afterwards
//! lane l holds in r[j] the 4 bytes at row l/4, bytes 4*(l%4)..4*(l%4)+3 of matrix j.
//! - Preconditions: every row address is 16-byte aligned shared memory.
SPIKEQUANT_DEVICE void ldmatrix_x4(std::uint32_t (&r)[4], std::uint32_t addr SPIKEQUANT_SIMT_SITE) {
#if defined(SPIKEQUANT_SIMT)
  simt::ldmatrix_x4(r, addr, site);
#elif defined(SPIKEQUANT_ARCH_SM80_ENABLED)
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr)
               : "memory");
#else
  (void)addr;
  r[0] = r[1] = r[2] = r[3] = 0;
  invalid_arch_trap();
#endif
}

//! ld.shared.u16: two bytes of shared memory at `addr` (2-byte aligned), zero-extended.
SPIKEQUANT_DEVICE std::uint32_t ld_shared_u16(std::uint32_t addr SPIKEQUANT_SIMT_SITE) {
#if defined(SPIKEQUANT_SIMT)
  return simt::ld_shared<std::uint16_t>(addr, site);
#else
  unsigned short v = 0;
  asm volatile("ld.shared.u16 %0, [%1];\n" : "=h"(v) : "r"(addr) : "memory");
  return v;
#endif
}

//! d += a * b with mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 (wrapping int32 adds).
//! Fragments (g = lane / 4, t = lane % 4; 4 int8 per register, lowest k in the low byte):
//! - a[0]: A[g][4t..4t+3]   a[1]: A[g+8][4t..4t+3]   a[2]: A[g][16+4t..]   a[3]: A[g+8][16+4t..]
//! - b[0]: B[k=4t..4t+3][n=g]                         b[1]: B[k=16+4t..16+4t+3][n=g]
//! - d[0]: D[g][2t]  d[1]: D[g][2t+1]  d[2]: D[g+8][2t]  d[3]: D[g+8][2t+1]
SPIKEQUANT_DEVICE void mma_s8_16x8x32(
    std::int32_t (&d)[4],
    std::uint32_t const (&a)[4],
    std::uint32_t const (&b)[2] SPIKEQUANT_SIMT_SITE) {
#if defined(SPIKEQUANT_SIMT)
  simt::mma_s8_16x8x32(d, a, b, site);
#elif defined(SPIKEQUANT_ARCH_SM80_ENABLED)
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  (void)d;
  (void)a;
  (void)b;
  invalid_arch_trap();
#endif
}

//! d += a * b with mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.f32 (fp32 accumulate).
//! Fragments (g = lane / 4, t = lane % 4; 2 halves per register, lower k in the low half):
//! - a[0]: A[g][2t..2t+1]   a[1]: A[g+8][2t..2t+1]   a[2]: A[g][2t+8..]   a[3]: A[g+8][2t+8..]
//! - b[0]: B[k=2t..2t+1][n=g]                          b[1]: B[k=2t+8..2t+9][n=g]
//! - d[0]: D[g][2t]  d[1]: D[g][2t+1]  d[2]: D[g+8][2t]  d[3]: D[g+8][2t+1]
//! @tparam Bf16_ false: f16 inputs; true: bf16 inputs.
template <bool Bf16_>
SPIKEQUANT_DEVICE void mma_f32_16x8x16(
    float (&d)[4], std::uint32_t const (&a)[4], std::uint32_t const (&b)[2] SPIKEQUANT_SIMT_SITE) {
#if defined(SPIKEQUANT_SIMT)
  simt::mma_f32_16x8x16<Bf16_>(d, a, b, site);
#elif defined(SPIKEQUANT_ARCH_SM80_ENABLED)
  if constexpr (Bf16_) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
#else
  (void)d;
  (void)a;
  (void)b;
  invalid_arch_trap();
#endif
}

}  // namespace spikequant::v0::cuda::arch
