// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The ggml tensor element types a GGUF file can name: their ids, names and block
//! geometry (elements per block, bytes per block), as in ggml.h and gguf-py's
//! GGML_QUANT_SIZES. The GGUF reader validates tensor sizes with this table.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace spikequant::inline v0::io {

//! ggml's element type ids (the numbers stored in a GGUF tensor info). Ids 4, 5 (the removed
//! Q4_2 / Q4_3) and 31-33, 36-38 (removed interleaved types) are not valid.
enum class GgmlType : std::uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
};

//! Elements per super-block of the K-quants (ggml's QK_K).
inline constexpr std::int64_t kQK_K = 256;

//! One row of the type table.
struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;    //!< ggml's name ("Q4_K", "BF16", ...)
  std::int64_t block_size;  //!< elements per block (1 for plain scalar types)
  std::int64_t type_size;   //!< bytes per block
};

namespace detail {
// Sizes as in gguf-py's GGML_QUANT_SIZES (gguf 0.19.0); each line spells out the block layout.
inline constexpr std::array<GgmlTypeTraits, 34> kGgmlTypes{{
    {GgmlType::kF32, "F32", 1, 4},
    {GgmlType::kF16, "F16", 1, 2},
    {GgmlType::kQ4_0, "Q4_0", 32, 2 + 16},
    {GgmlType::kQ4_1, "Q4_1", 32, 2 + 2 + 16},
    {GgmlType::kQ5_0, "Q5_0", 32, 2 + 4 + 16},
    {GgmlType::kQ5_1, "Q5_1", 32, 2 + 2 + 4 + 16},
    {GgmlType::kQ8_0, "Q8_0", 32, 2 + 32},
    {GgmlType::kQ8_1, "Q8_1", 32, 4 + 4 + 32},
    {GgmlType::kQ2_K, "Q2_K", 256, 2 + 2 + kQK_K / 16 + kQK_K / 4},
    {GgmlType::kQ3_K, "Q3_K", 256, 2 + kQK_K / 4 + kQK_K / 8 + 12},
    {GgmlType::kQ4_K, "Q4_K", 256, 2 + 2 + kQK_K / 2 + 12},
    {GgmlType::kQ5_K, "Q5_K", 256, 2 + 2 + kQK_K / 2 + kQK_K / 8 + 12},
    {GgmlType::kQ6_K, "Q6_K", 256, 2 + kQK_K / 2 + kQK_K / 4 + kQK_K / 16},
    {GgmlType::kQ8_K, "Q8_K", 256, 4 + kQK_K + kQK_K / 8},
    {GgmlType::kIQ2_XXS, "IQ2_XXS", 256, 2 + kQK_K / 4},
    {GgmlType::kIQ2_XS, "IQ2_XS", 256, 2 + kQK_K / 4 + kQK_K / 32},
    {GgmlType::kIQ3_XXS, "IQ3_XXS", 256, 2 + kQK_K / 4 + kQK_K / 8},
    {GgmlType::kIQ1_S, "IQ1_S", 256, 2 + kQK_K / 8 + kQK_K / 16},
    {GgmlType::kIQ4_NL, "IQ4_NL", 32, 2 + 16},
    {GgmlType::kIQ3_S, "IQ3_S", 256, 2 + kQK_K / 4 + kQK_K / 8 + kQK_K / 32 + 4},
    {GgmlType::kIQ2_S, "IQ2_S", 256, 2 + kQK_K / 4 + kQK_K / 16},
    {GgmlType::kIQ4_XS, "IQ4_XS", 256, 2 + 2 + kQK_K / 2 + kQK_K / 64},
    {GgmlType::kI8, "I8", 1, 1},
    {GgmlType::kI16, "I16", 1, 2},
    {GgmlType::kI32, "I32", 1, 4},
    {GgmlType::kI64, "I64", 1, 8},
    {GgmlType::kF64, "F64", 1, 8},
    {GgmlType::kIQ1_M, "IQ1_M", 256, kQK_K / 8 + kQK_K / 16 + kQK_K / 32},
    {GgmlType::kBF16, "BF16", 1, 2},
    {GgmlType::kTQ1_0, "TQ1_0", 256, 2 + 4 * 13},
    {GgmlType::kTQ2_0, "TQ2_0", 256, 2 + 64},
    {GgmlType::kMXFP4, "MXFP4", 32, 1 + 16},
    {GgmlType::kNVFP4, "NVFP4", 64, 4 + 32},
    {GgmlType::kQ1_0, "Q1_0", 128, 2 + 16},
}};
}  // namespace detail

//! The table row of a raw type id; std::nullopt for ids ggml does not define.
inline constexpr std::optional<GgmlTypeTraits> ggml_type_traits(std::uint32_t id) noexcept {
  for (auto const& t : detail::kGgmlTypes) {
    if (static_cast<std::uint32_t>(t.type) == id) {
      return t;
    }
  }
  return std::nullopt;
}

//! The table row of a type; for a value outside the enumerators (a cast from a raw id that
//! was not checked) a row named "?" with type_size 0, so nothing is read through it.
inline constexpr GgmlTypeTraits ggml_type_traits(GgmlType type) noexcept {
  auto const t = ggml_type_traits(static_cast<std::uint32_t>(type));
  return t ? *t : GgmlTypeTraits{type, "?", 1, 0};
}

//! ggml's name of a type ("Q4_K").
inline constexpr std::string_view to_string(GgmlType type) noexcept {
  return ggml_type_traits(type).name;
}

}  // namespace spikequant::v0::io
