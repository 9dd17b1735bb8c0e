// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host stand-ins for CUDA's device built-ins: threadIdx / blockIdx / blockDim / gridDim,
//! __syncthreads, the __shfl_*_sync family, atomics, __trap, __cvta_generic_to_shared and the
//! fp32 _rn intrinsics. Included by the prelude only (these names are macros and globals).
#pragma once

#include "spikequant/simt/ptx.hpp"

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <source_location>

#define threadIdx (::spikequant::simt::this_thread().thread_idx)
#define blockIdx (::spikequant::simt::this_block().block_idx)
#define blockDim (::spikequant::simt::this_block().block_dim)
#define gridDim (::spikequant::simt::this_block().grid_dim)
#define __syncthreads() ::spikequant::simt::this_block().barrier(std::source_location::current())

inline constexpr int warpSize = 32;

inline void __syncwarp(
    unsigned mask = 0xffffffffu, std::source_location site = std::source_location::current()) {
  ::spikequant::simt::syncwarp(mask, site);
}

namespace spikequant::inline v0::simt {
//! Shuffle from lane `src` within the caller's `width`-lane segment; a source outside the
//! segment gives the caller its own value, as the hardware's sync shuffles do.
template <class T>
T shfl_in_segment(unsigned mask, T v, int src, int width, Site const& site) {
  int const lane = this_thread().lane;
  bool const inside = (src & ~(width - 1)) == (lane & ~(width - 1));
  return shfl(mask, v, inside ? src : lane, site);
}
}  // namespace spikequant::v0::simt

template <class T>
T __shfl_sync(
    unsigned mask,
    T v,
    int src,
    int width = 32,
    std::source_location site = std::source_location::current()) {
  int const lane = ::spikequant::simt::this_thread().lane;
  return ::spikequant::simt::shfl(mask, v, (lane & ~(width - 1)) + (src & (width - 1)), site);
}

template <class T>
T __shfl_xor_sync(
    unsigned mask,
    T v,
    int lane_mask,
    int width = 32,
    std::source_location site = std::source_location::current()) {
  int const lane = ::spikequant::simt::this_thread().lane;
  return ::spikequant::simt::shfl_in_segment(mask, v, lane ^ lane_mask, width, site);
}

template <class T>
T __shfl_down_sync(
    unsigned mask,
    T v,
    unsigned delta,
    int width = 32,
    std::source_location site = std::source_location::current()) {
  int const lane = ::spikequant::simt::this_thread().lane;
  return ::spikequant::simt::shfl_in_segment(mask, v, lane + static_cast<int>(delta), width, site);
}

template <class T>
T __shfl_up_sync(
    unsigned mask,
    T v,
    unsigned delta,
    int width = 32,
    std::source_location site = std::source_location::current()) {
  int const lane = ::spikequant::simt::this_thread().lane;
  return ::spikequant::simt::shfl_in_segment(mask, v, lane - static_cast<int>(delta), width, site);
}

// Atomics on global memory: blocks run one at a time, but atomic_ref keeps them honest if a
// later scheduler runs blocks on several OS threads.
template <class T>
T atomicMax(T* p, T v) {
  std::atomic_ref<T> a(*p);
  T old = a.load();
  while (old < v && !a.compare_exchange_weak(old, v)) {
  }
  return old;
}
template <class T>
T atomicMin(T* p, T v) {
  std::atomic_ref<T> a(*p);
  T old = a.load();
  while (v < old && !a.compare_exchange_weak(old, v)) {
  }
  return old;
}
template <class T>
T atomicAdd(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_add(v);
}
template <class T>
T atomicExch(T* p, T v) {
  return std::atomic_ref<T>(*p).exchange(v);
}
template <class T>
T atomicCAS(T* p, T compare, T v) {
  std::atomic_ref<T>(*p).compare_exchange_strong(compare, v);
  return compare;
}

[[noreturn]] inline void __trap(std::source_location site = std::source_location::current()) {
  ::spikequant::simt::this_block().fail("__trap() executed", site);
}

inline std::size_t __cvta_generic_to_shared(
    void const* p, std::source_location site = std::source_location::current()) {
  return ::spikequant::simt::shared_offset(p, site);
}

// fp32 intrinsics: one IEEE operation each, never contracted (the simt target builds with
// -ffp-contract=off), matching the device's _rn forms bit for bit.
inline float __fmul_rn(float a, float b) {
  return a * b;
}
inline float __fadd_rn(float a, float b) {
  return a + b;
}
inline float __fsub_rn(float a, float b) {
  return a - b;
}
inline float __fdiv_rn(float a, float b) {
  return a / b;
}
inline float __int2float_rn(int v) {
  return static_cast<float>(v);
}
inline unsigned __float_as_uint(float f) {
  return std::bit_cast<unsigned>(f);
}
inline float __uint_as_float(unsigned u) {
  return std::bit_cast<float>(u);
}
inline int __float_as_int(float f) {
  return std::bit_cast<int>(f);
}
inline float __int_as_float(int i) {
  return std::bit_cast<float>(i);
}
