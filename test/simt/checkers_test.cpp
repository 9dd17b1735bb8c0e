// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The SIMT emulator's own checks, each on a small kernel that breaks one rule: every
//! report must stop the launch with spikequant::Error naming the hazard, and correct kernels
//! (shuffles, the block reduction, atomics, cp.async with the right waits) must give the
//! values a hand computation gives.
#include "spikequant/cuda/arch/shared.cuh"
#include "spikequant/cuda/arch/sm80_mma.cuh"
#include "spikequant/cuda/kernel/block_reduce.cuh"
#include "spikequant/cuda/runtime/device.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"
#include "spikequant/cuda/runtime/launch.cuh"
#include "spikequant/simt/bank_stats.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <vector>

namespace {
namespace sqc = spikequant::cuda;
namespace arch = spikequant::cuda::arch;
using spikequant::Error;

struct Out {
  int* values = nullptr;
};

template <class... KernelArgs, class... Args>
void run(void (*k)(KernelArgs...), unsigned threads, std::size_t smem, Args const&... args) {
  sqc::launch_kernel(k, dim3(1), dim3(threads), smem, nullptr, args...);
}

std::vector<int> download(sqc::DeviceBuffer<int> const& b, std::size_t n) {
  std::vector<int> h(n);
  b.download(std::span<int>(h));
  return h;
}

// ---- correct kernels --------------------------------------------------------------------

__global__ void shfl_xor_sum(Out o) {
  int v = static_cast<int>(threadIdx.x % 32);
  for (int offset = 16; offset > 0; offset /= 2) {
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  }
  o.values[threadIdx.x] = v;
}

__global__ void shfl_broadcast_down(Out o) {
  int const lane = static_cast<int>(threadIdx.x % 32);
  int const from3 = __shfl_sync(0xffffffffu, lane * 10, 3);
  int const down = __shfl_down_sync(0xffffffffu, lane, 1);  // lane 31 keeps its own
  o.values[2 * threadIdx.x] = from3;
  o.values[2 * threadIdx.x + 1] = down;
}

__global__ void block_sum(Out o) {
  using R = sqc::kernel::BlockReduce<int, 256>;
  SPIKEQUANT_DYNAMIC_SHARED(R::TempStorage, storage, 16);
  int const tid = static_cast<int>(threadIdx.x);
  int const a = R::all_reduce(storage[0], tid, sqc::kernel::SumOp{}, tid);
  int const b = R::all_reduce(storage[0], 1, sqc::kernel::SumOp{}, tid);  // storage reused
  o.values[tid] = a + 1000000 * b;
}

__global__ void atomic_max(Out o) {
  atomicMax(reinterpret_cast<unsigned*>(o.values), static_cast<unsigned>(threadIdx.x * 7 % 101));
  atomicAdd(o.values + 1, 1);
}

struct CopyParams {
  std::int32_t const* src = nullptr;  // 64 ints
  int* dst = nullptr;
  int wait = 0;      // groups left pending before the read
  bool sync = true;  // __syncthreads between the wait and the read
  bool zfill = false;
};

// 4 threads each copy 16 bytes (4 ints); then every thread reads the neighbour's ints.
__global__ void cp_async_exchange(CopyParams p) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  int const tid = static_cast<int>(threadIdx.x);
  std::uint32_t const base = arch::smem_address(smem);
  arch::cp_async_16_zfill(base + static_cast<std::uint32_t>(16 * tid), p.src + 4 * tid, !p.zfill);
  arch::cp_async_commit();
  arch::cp_async_commit();  // an empty second group
  if (p.wait == 0) {
    arch::cp_async_wait<0>();
  } else {
    arch::cp_async_wait<2>();
  }
  if (p.sync) {
    __syncthreads();
  }
  // Thread t reads thread t - 1's copy (thread 0 its own): the scheduler runs threads in order,
  // so without the barrier thread t reads data its writer produced in the same interval.
  int const other = tid == 0 ? 0 : tid - 1;
  for (int i = 0; i < 4; ++i) {
    p.dst[4 * tid + i] = arch::load_shared(smem + 4 * other + i);
  }
  arch::cp_async_wait<0>();
}

// ---- broken kernels ---------------------------------------------------------------------

__global__ void early_exit_then_barrier(Out) {
  if (threadIdx.x < 32) {
    return;
  }
  __syncthreads();
}

__global__ void two_barriers(Out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
}

__global__ void half_warp_shuffle(Out o) {
  int v = static_cast<int>(threadIdx.x);
  if (threadIdx.x % 32 < 16) {
    v = __shfl_xor_sync(0xffffffffu, v, 1);
  }
  o.values[threadIdx.x] = v;
}

__global__ void diverged_mma(Out) {
  std::int32_t d[4] = {};
  std::uint32_t const a[4] = {};
  std::uint32_t const b[2] = {};
  if (threadIdx.x != 5) {
    arch::mma_s8_16x8x32(d, a, b);
  }
}

__global__ void read_uninitialized(Out o) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  o.values[threadIdx.x] = arch::load_shared(smem + threadIdx.x);
}

__global__ void read_without_barrier(Out o) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  arch::store_shared(smem + threadIdx.x, static_cast<int>(threadIdx.x));
  o.values[threadIdx.x] = arch::load_shared(smem + (threadIdx.x == 0 ? 0 : threadIdx.x - 1));
}

__global__ void two_writers(Out) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  arch::store_shared(smem, static_cast<int>(threadIdx.x));
}

__global__ void overwrite_while_read(Out o) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  arch::store_shared(smem + threadIdx.x, 1);
  __syncthreads();
  o.values[threadIdx.x] = arch::load_shared(smem + (threadIdx.x + 1) % 64);
  arch::store_shared(smem + threadIdx.x, 2);  // the neighbour may not have read it yet
}

__global__ void copy_never_waited(CopyParams p) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  arch::cp_async_16_zfill(arch::smem_address(smem) + 16u * threadIdx.x, p.src, true);
  arch::cp_async_commit();
}

__global__ void copy_past_the_allocation(CopyParams p) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  // 4 ints were allocated: thread 1's 16 bytes start right after them.
  arch::cp_async_16_zfill(
      arch::smem_address(smem) + 16u * threadIdx.x, p.src + 4 * threadIdx.x, true);
  arch::cp_async_commit();
  arch::cp_async_wait<0>();
}

__global__ void trap_kernel(Out) {
  __trap();
}

__global__ void out_of_bounds(Out o) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  o.values[0] = arch::load_shared(smem + 64);  // 64 ints = 256 bytes were requested
}

__global__ void out_of_bounds_ptx(Out o) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  o.values[0] = static_cast<int>(arch::ld_shared_u16(arch::smem_address(smem) + 256));
}

struct BankParams {
  int stride = 1;  // in 4-byte words
  int* out = nullptr;
};

__global__ void strided_loads(BankParams p) {
  SPIKEQUANT_DYNAMIC_SHARED(int, smem, 16);
  for (int i = static_cast<int>(threadIdx.x); i < 32 * 32; i += 32) {
    arch::store_shared(smem + i, i);
  }
  __syncthreads();
  p.out[threadIdx.x] = arch::load_shared(smem + (static_cast<int>(threadIdx.x) * p.stride) % 1024);
}

}  // namespace

TEST_CASE("simt: shuffles give the hardware's lane exchange") {
  sqc::DeviceBuffer<int> out(128);
  run(&shfl_xor_sum, 64, 0, Out{out.data()});
  auto const sums = download(out, 128);
  for (int t = 0; t < 64; ++t) {
    CHECK(sums[static_cast<std::size_t>(t)] == 496);  // 0 + 1 + ... + 31 in every lane
  }
  run(&shfl_broadcast_down, 64, 0, Out{out.data()});
  auto const h = download(out, 128);
  for (int t = 0; t < 64; ++t) {
    CHECK(h[2 * t] == 30);
    CHECK(h[2 * t + 1] == (t % 32 == 31 ? 31 : t % 32 + 1));
  }
}

TEST_CASE("simt: BlockReduce all_reduce gives every thread the total, storage reusable") {
  sqc::DeviceBuffer<int> out(256);
  run(&block_sum, 256, sizeof(int) * 8, Out{out.data()});
  for (int v : download(out, 256)) {
    CHECK(v == 255 * 256 / 2 + 1000000 * 256);
  }
}

TEST_CASE("simt: atomics over a block") {
  std::vector<int> init = {0, 0};
  sqc::DeviceBuffer<int> out{std::span<int const>(init)};
  run(&atomic_max, 256, 0, Out{out.data()});
  auto const h = download(out, 2);
  CHECK(h[0] == 100);  // max of t * 7 % 101 over t < 256
  CHECK(h[1] == 256);
}

TEST_CASE("simt: cp.async lands at wait_group; zero-fill writes zeros") {
  std::vector<std::int32_t> src(16);
  for (int i = 0; i < 16; ++i) {
    src[static_cast<std::size_t>(i)] = 100 + i;
  }
  sqc::DeviceBuffer<std::int32_t> dsrc{std::span<std::int32_t const>(src)};
  sqc::DeviceBuffer<int> out(16);
  run(&cp_async_exchange, 4, 64, CopyParams{dsrc.data(), out.data(), 0, true, false});
  auto const h = download(out, 16);
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 4; ++i) {
      CHECK(h[static_cast<std::size_t>(4 * t + i)] == 100 + 4 * (t == 0 ? 0 : t - 1) + i);
    }
  }
  run(&cp_async_exchange, 4, 64, CopyParams{dsrc.data(), out.data(), 0, true, true});
  for (int v : download(out, 16)) {
    CHECK(v == 0);
  }
}

TEST_CASE("simt: a too weak cp.async wait is reported at the read") {
  sqc::DeviceBuffer<std::int32_t> src(16);
  src.fill_bytes(1);
  sqc::DeviceBuffer<int> out(16);
  CHECK_THROWS_WITH_AS(
      run(&cp_async_exchange, 4, 64, CopyParams{src.data(), out.data(), 2, true, false}),
      doctest::Contains("has not landed"),
      Error);
}

TEST_CASE("simt: a missing __syncthreads after cp.async is a read-after-write race") {
  sqc::DeviceBuffer<std::int32_t> src(16);
  src.fill_bytes(1);
  sqc::DeviceBuffer<int> out(16);
  CHECK_THROWS_WITH_AS(
      run(&cp_async_exchange, 4, 64, CopyParams{src.data(), out.data(), 0, false, false}),
      doctest::Contains("read-after-write race"),
      Error);
}

TEST_CASE("simt: barrier divergence is reported, never a hang") {
  sqc::DeviceBuffer<int> out(64);
  CHECK_THROWS_WITH_AS(
      run(&early_exit_then_barrier, 64, 0, Out{out.data()}),
      doctest::Contains("barrier divergence: 32 of 64 threads wait"),
      Error);
  CHECK_THROWS_WITH_AS(
      run(&two_barriers, 64, 0, Out{out.data()}), doctest::Contains("barrier divergence"), Error);
}

TEST_CASE("simt: a warp collective reached by part of the warp names the lanes") {
  sqc::DeviceBuffer<int> out(32);
  CHECK_THROWS_WITH_AS(
      run(&half_warp_shuffle, 32, 0, Out{out.data()}),
      doctest::Contains("reached by lanes 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 of warp 0 only"),
      Error);
  CHECK_THROWS_WITH_AS(
      run(&diverged_mma, 32, 0, Out{out.data()}),
      doctest::Contains("mma.m16n8k32.s8 reached by lanes"),
      Error);
}

TEST_CASE("simt: shared-memory hazards name thread, byte and line") {
  sqc::DeviceBuffer<int> out(64);
  CHECK_THROWS_WITH_AS(
      run(&read_uninitialized, 64, 256, Out{out.data()}),
      doctest::Contains("reads shared byte 0, which nothing wrote"),
      Error);
  CHECK_THROWS_WITH_AS(
      run(&read_without_barrier, 64, 256, Out{out.data()}),
      doctest::Contains("read-after-write race"),
      Error);
  CHECK_THROWS_WITH_AS(
      run(&two_writers, 64, 256, Out{out.data()}),
      doctest::Contains("threads 0 and 1 both write shared byte 0"),
      Error);
  CHECK_THROWS_WITH_AS(
      run(&overwrite_while_read, 64, 256, Out{out.data()}),
      doctest::Contains("write-after-read race"),
      Error);
  CHECK_THROWS_WITH_AS(
      run(&out_of_bounds, 1, 256, Out{out.data()}),
      doctest::Contains("not in this block's shared memory"),
      Error);
  CHECK_THROWS_WITH_AS(
      run(&out_of_bounds_ptx, 1, 256, Out{out.data()}),
      doctest::Contains("outside the 256 bytes"),
      Error);
  CHECK_THROWS_WITH_AS(
      run(&read_without_barrier, 64, 256, Out{out.data()}),
      doctest::Contains("checkers_test.cpp:"),
      Error);
}

TEST_CASE("simt: copies in flight at exit, out-of-bounds copies and __trap stop the launch") {
  sqc::DeviceBuffer<std::int32_t> src(16);
  src.fill_bytes(0);
  CHECK_THROWS_WITH_AS(
      run(&copy_never_waited, 4, 64, CopyParams{src.data(), nullptr, 0, true, false}),
      doctest::Contains("cp.async copies in flight"),
      Error);
  sqc::DeviceBuffer<std::int32_t> four(4);
  four.fill_bytes(0);
  CHECK_THROWS_WITH_AS(
      run(&copy_past_the_allocation, 2, 64, CopyParams{four.data(), nullptr, 0, true, false}),
      doctest::Contains("outside every cudaMalloc allocation"),
      Error);
  sqc::DeviceBuffer<int> out(1);
  CHECK_THROWS_WITH_AS(
      run(&trap_kernel, 32, 0, Out{out.data()}), doctest::Contains("__trap() executed"), Error);
}

TEST_CASE("simt: bank conflicts are counted as the hardware serves them") {
  sqc::DeviceBuffer<int> out(32);
  // Stride 1: 32 banks, 1 wavefront; stride 2: 2 words per bank; stride 32: one bank, 32
  // words; stride 0: one word, a broadcast.
  for (auto const& [stride, wavefronts] : {std::pair{1, 1}, {2, 2}, {32, 32}, {0, 1}}) {
    CAPTURE(stride);
    spikequant::simt::bank_stats().reset();
    run(&strided_loads, 32, 4096, BankParams{stride, out.data()});
    bool found = false;
    for (auto const& s : spikequant::simt::bank_stats().report()) {
      if (s.op == std::string("ld.shared")) {
        found = true;
        CHECK(s.requests == 1);
        CHECK(s.wavefronts == static_cast<std::uint64_t>(wavefronts));
      }
    }
    CHECK(found);
  }
}

TEST_CASE("simt: launches beyond the opt-in shared memory are rejected") {
  sqc::DeviceBuffer<int> out(1);
  CHECK_THROWS_WITH_AS(
      run(&trap_kernel, 32, 64 * 1024, Out{out.data()}),
      doctest::Contains("exceed the 49152"),
      Error);
}

TEST_CASE("simt: the emulated device reports sm_80 or sm_90 limits") {
  namespace simt = spikequant::simt;
  simt::set_compute_capability(80);
  CHECK(sqc::compute_capability() == 80);
  CHECK(sqc::sm_count() == 108);
  CHECK(
      cudaFuncSetAttribute(
          reinterpret_cast<void const*>(&trap_kernel),
          cudaFuncAttributeMaxDynamicSharedMemorySize,
          200 * 1024) == cudaErrorInvalidValue);
  (void)cudaGetLastError();
  simt::set_compute_capability(90);
  CHECK(sqc::compute_capability() == 90);
  CHECK(sqc::device_name().find("sm_90") != std::string::npos);
  CHECK(
      cudaFuncSetAttribute(
          reinterpret_cast<void const*>(&trap_kernel),
          cudaFuncAttributeMaxDynamicSharedMemorySize,
          200 * 1024) == cudaSuccess);
  (void)cudaFuncSetAttribute(
      reinterpret_cast<void const*>(&trap_kernel),
      cudaFuncAttributeMaxDynamicSharedMemorySize,
      48 * 1024);  // later launches of trap_kernel expect the default limit
}
