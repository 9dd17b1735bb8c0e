// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Dequantization of ggml's block formats to float, bit-exact against the PyPI `gguf`
//! package's gguf.quants.dequantize (the reference the tests compare with).
//!
//! gguf-py computes in float32 with one rounding per numpy operation, e.g. Q4_K is
//! `(d * sc) * q - dmin * m` with every product rounded before the subtraction. This file
//! does the same operations in the same order. A compiler may fuse a multiply and the add
//! after it into an FMA (GCC does with -ffp-contract=fast, its default outside ISO mode, once
//! FMA is enabled): that changes nothing here, because every product that feeds an addition
//! is exact in float32 (an fp16 scale, 11 significant bits, times a 6-bit sub-scale times a
//! value of at most 5 bits has at most 22), so rounding it first is a no-op. The tests check
//! this under -march=native -ffp-contract=fast too (see docs/gguf.md).
//!
//! Block layouts (little-endian; `half` is IEEE binary16; QK_K = 256):
//! - Q4_0 {half d; u8 qs[16]}: x = d * (nibble - 8); byte j holds elements j (low) and j+16.
//! - Q4_1 {half d, m; u8 qs[16]}: x = d * nibble + m.
//! - Q5_0 {half d; u32 qh; u8 qs[16]}: 5th bit of element j is bit j of qh; x = d * (q - 16).
//! - Q5_1 {half d, m; u32 qh; u8 qs[16]}: x = d * q + m.
//! - Q8_0 {half d; i8 qs[32]}: x = qs * d.
//! - Q2_K {u8 scales[16]; u8 qs[64]; half d, dmin}: 16 groups of 16, 2-bit values.
//! - Q3_K {u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d}: 16 groups of 16, 6-bit signed
//!   scales, 3-bit values whose high bit is stored inverted.
//! - Q4_K {half d, dmin; u8 scales[12]; u8 qs[128]}: 8 groups of 32 with 6-bit scale and min.
//! - Q5_K {half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: Q4_K plus a 5th bit.
//! - Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; half d}: 16 groups of 16, x = d*s*(q-32).
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/ggml_type.hpp"
#include "spikequant/io/half.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace spikequant::inline v0::io {

namespace detail {

inline float half_at(std::byte const* p) noexcept {
  std::uint16_t h = 0;
  std::memcpy(&h, p, 2);
  return f16_to_float(h);
}

inline std::uint8_t u8_at(std::byte const* p, std::size_t i) noexcept {
  return static_cast<std::uint8_t>(p[i]);
}

inline void dequant_q4_0(std::byte const* b, float* y) {
  float const d = half_at(b);
  for (int j = 0; j < 16; ++j) {
    auto const q = u8_at(b + 2, static_cast<std::size_t>(j));
    y[j] = d * static_cast<float>((q & 0x0F) - 8);
    y[j + 16] = d * static_cast<float>((q >> 4) - 8);
  }
}

inline void dequant_q4_1(std::byte const* b, float* y) {
  float const d = half_at(b);
  float const m = half_at(b + 2);
  for (int j = 0; j < 16; ++j) {
    auto const q = u8_at(b + 4, static_cast<std::size_t>(j));
    y[j] = d * static_cast<float>(q & 0x0F) + m;
    y[j + 16] = d * static_cast<float>(q >> 4) + m;
  }
}

// The 32 5-bit values of a Q5_0 / Q5_1 block, unsigned (0..31).
inline void unpack_q5(std::byte const* qh_p, std::byte const* qs, std::uint8_t* q) {
  std::uint32_t qh = 0;
  std::memcpy(&qh, qh_p, 4);
  for (int j = 0; j < 16; ++j) {
    auto const v = u8_at(qs, static_cast<std::size_t>(j));
    q[j] = static_cast<std::uint8_t>((v & 0x0F) | (((qh >> j) & 1u) << 4));
    q[j + 16] = static_cast<std::uint8_t>((v >> 4) | (((qh >> (j + 16)) & 1u) << 4));
  }
}

inline void dequant_q5_0(std::byte const* b, float* y) {
  float const d = half_at(b);
  std::uint8_t q[32];
  unpack_q5(b + 2, b + 6, q);
  for (int j = 0; j < 32; ++j) {
    y[j] = d * static_cast<float>(q[j] - 16);
  }
}

inline void dequant_q5_1(std::byte const* b, float* y) {
  float const d = half_at(b);
  float const m = half_at(b + 2);
  std::uint8_t q[32];
  unpack_q5(b + 4, b + 8, q);
  for (int j = 0; j < 32; ++j) {
    y[j] = d * static_cast<float>(q[j]) + m;
  }
}

inline void dequant_q8_0(std::byte const* b, float* y) {
  float const d = half_at(b);
  for (int j = 0; j < 32; ++j) {
    y[j] =
        static_cast<float>(static_cast<std::int8_t>(u8_at(b + 2, static_cast<std::size_t>(j)))) * d;
  }
}

inline void dequant_q2_k(std::byte const* b, float* y) {
  std::byte const* scales = b;
  std::byte const* qs = b + 16;
  float const d = half_at(b + 80);
  float const dmin = half_at(b + 82);
  for (int i = 0; i < 256; ++i) {
    int const h = i / 128, s = (i / 32) % 4, l = i % 32;  // qs byte h*32+l, bits 2s..2s+1
    auto const q = (u8_at(qs, static_cast<std::size_t>(h * 32 + l)) >> (2 * s)) & 3;
    auto const sc = u8_at(scales, static_cast<std::size_t>(i / 16));
    float const dl = d * static_cast<float>(sc & 0x0F);
    float const ml = dmin * static_cast<float>(sc >> 4);
    y[i] = dl * static_cast<float>(q) - ml;
  }
}

inline void dequant_q3_k(std::byte const* b, float* y) {
  std::byte const* hmask = b;
  std::byte const* qs = b + 32;
  std::byte const* s = b + 96;
  float const d = half_at(b + 108);
  float dl[16];
  for (int i = 0; i < 16; ++i) {
    int const low = i < 8 ? (u8_at(s, static_cast<std::size_t>(i)) & 0x0F)
                          : (u8_at(s, static_cast<std::size_t>(i - 8)) >> 4);
    int const high = (u8_at(s, static_cast<std::size_t>(8 + i % 4)) >> (2 * (i / 4))) & 3;
    dl[i] = d * static_cast<float>((low | (high << 4)) - 32);
  }
  for (int i = 0; i < 256; ++i) {
    int const h = i / 128, sh = (i / 32) % 4, l = i % 32;
    int const ql = (u8_at(qs, static_cast<std::size_t>(h * 32 + l)) >> (2 * sh)) & 3;
    int const hbit = (u8_at(hmask, static_cast<std::size_t>(l)) >> (i / 32)) & 1;
    y[i] = dl[i / 16] * static_cast<float>(ql - ((hbit ^ 1) << 2));
  }
}

// The 6-bit scales and mins of the 8 sub-blocks of a Q4_K / Q5_K block (gguf-py's
// Q4_K.get_scale_min).
inline void k_scale_min(std::byte const* s, std::uint8_t* sc, std::uint8_t* m) {
  auto const at = [s](int i) { return u8_at(s, static_cast<std::size_t>(i)); };
  for (int j = 0; j < 4; ++j) {
    sc[j] = static_cast<std::uint8_t>(at(j) & 0x3F);
    m[j] = static_cast<std::uint8_t>(at(j + 4) & 0x3F);
    sc[j + 4] = static_cast<std::uint8_t>((at(j + 8) & 0x0F) | ((at(j) >> 2) & 0x30));
    m[j + 4] = static_cast<std::uint8_t>((at(j + 8) >> 4) | ((at(j + 4) >> 2) & 0x30));
  }
}

// Q4_K when qh == nullptr, else Q5_K (qh adds bit 4 of sub-block j from bit j of qh[l]).
inline void dequant_q45_k(std::byte const* b, std::byte const* qh, std::byte const* qs, float* y) {
  float const d = half_at(b);
  float const dmin = half_at(b + 2);
  std::uint8_t sc[8];
  std::uint8_t mn[8];
  k_scale_min(b + 4, sc, mn);
  for (int j = 0; j < 8; ++j) {
    float const ds = d * static_cast<float>(sc[j]);
    float const dm = dmin * static_cast<float>(mn[j]);
    for (int l = 0; l < 32; ++l) {
      auto const byte = u8_at(qs, static_cast<std::size_t>((j / 2) * 32 + l));
      int q = (j % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
      if (qh != nullptr) {
        q |= ((u8_at(qh, static_cast<std::size_t>(l)) >> j) & 1) << 4;
      }
      y[j * 32 + l] = ds * static_cast<float>(q) - dm;
    }
  }
}

inline void dequant_q6_k(std::byte const* b, float* y) {
  std::byte const* ql = b;
  std::byte const* qh = b + 128;
  std::byte const* scales = b + 192;
  float const d = half_at(b + 208);
  for (int i = 0; i < 256; ++i) {
    int const h = i / 128;
    int const lo_nib = (i / 64) % 2, lo_l = i % 64;  // ql byte h*64+lo_l, nibble lo_nib
    int const hi_sh = (i / 32) % 4, hi_l = i % 32;   // qh byte h*32+hi_l, bits 2*hi_sh
    int const lo = (u8_at(ql, static_cast<std::size_t>(h * 64 + lo_l)) >> (4 * lo_nib)) & 0x0F;
    int const hi = (u8_at(qh, static_cast<std::size_t>(h * 32 + hi_l)) >> (2 * hi_sh)) & 3;
    auto const s = static_cast<std::int8_t>(u8_at(scales, static_cast<std::size_t>(i / 16)));
    float const ds = d * static_cast<float>(s);
    y[i] = ds * static_cast<float>((lo | (hi << 4)) - 32);
  }
}

}  // namespace detail

//! Whether dequantize() handles `type`: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
//! Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
inline constexpr bool can_dequantize(GgmlType type) noexcept {
  switch (type) {
  case GgmlType::kF32:
  case GgmlType::kF16:
  case GgmlType::kBF16:
  case GgmlType::kQ4_0:
  case GgmlType::kQ4_1:
  case GgmlType::kQ5_0:
  case GgmlType::kQ5_1:
  case GgmlType::kQ8_0:
  case GgmlType::kQ2_K:
  case GgmlType::kQ3_K:
  case GgmlType::kQ4_K:
  case GgmlType::kQ5_K:
  case GgmlType::kQ6_K:
    return true;
  default:
    return false;
  }
}

//! Dequantizes whole blocks of `type` to float.
//! - `out.size()` must be a multiple of the block size, and `blocks.size()` exactly
//!   out.size() / block_size * type_size (kInvalidArgument otherwise).
//! - Bit-exact with gguf.quants.dequantize for finite scales; an F16 NaN stays NaN (its
//!   payload bits may differ from numpy's, which follows the host's conversion instruction).
//! @throws Error kUnsupported for a type can_dequantize() rejects.
inline void dequantize(GgmlType type, std::span<std::byte const> blocks, std::span<float> out) {
  auto const tr = ggml_type_traits(type);
  require(
      can_dequantize(type),
      ErrorKind::kUnsupported,
      "dequantize: ggml type ",
      tr.name,
      " is not supported (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K are)");
  auto const n = static_cast<std::int64_t>(out.size());
  require(
      n % tr.block_size == 0,
      ErrorKind::kInvalidArgument,
      "dequantize: ",
      n,
      " elements is not a multiple of the ",
      tr.name,
      " block size ",
      tr.block_size);
  std::int64_t const n_blocks = n / tr.block_size;
  require(
      static_cast<std::int64_t>(blocks.size()) == n_blocks * tr.type_size,
      ErrorKind::kInvalidArgument,
      "dequantize: ",
      n,
      " ",
      tr.name,
      " elements need ",
      n_blocks * tr.type_size,
      " bytes, got ",
      blocks.size());
  std::byte const* b = blocks.data();
  float* y = out.data();
  auto const ts = static_cast<std::size_t>(tr.type_size);
  auto const bs = static_cast<std::size_t>(tr.block_size);
  if (type == GgmlType::kF32) {
    if (n > 0) {
      std::memcpy(y, b, blocks.size());
    }
    return;
  }
  for (std::int64_t i = 0; i < n_blocks; ++i, b += ts, y += bs) {
    switch (type) {
    case GgmlType::kF16:
      *y = detail::half_at(b);
      break;
    case GgmlType::kBF16: {
      std::uint16_t h = 0;
      std::memcpy(&h, b, 2);
      *y = bf16_to_float(h);
      break;
    }
    case GgmlType::kQ4_0:
      detail::dequant_q4_0(b, y);
      break;
    case GgmlType::kQ4_1:
      detail::dequant_q4_1(b, y);
      break;
    case GgmlType::kQ5_0:
      detail::dequant_q5_0(b, y);
      break;
    case GgmlType::kQ5_1:
      detail::dequant_q5_1(b, y);
      break;
    case GgmlType::kQ8_0:
      detail::dequant_q8_0(b, y);
      break;
    case GgmlType::kQ2_K:
      detail::dequant_q2_k(b, y);
      break;
    case GgmlType::kQ3_K:
      detail::dequant_q3_k(b, y);
      break;
    case GgmlType::kQ4_K:
      detail::dequant_q45_k(b, nullptr, b + 16, y);
      break;
    case GgmlType::kQ5_K:
      detail::dequant_q45_k(b, b + 16, b + 48, y);
      break;
    case GgmlType::kQ6_K:
      detail::dequant_q6_k(b, y);
      break;
    default:
      break;  // rejected above
    }
  }
}

}  // namespace spikequant::v0::io
