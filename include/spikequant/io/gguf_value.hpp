// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file GGUF metadata values: the 13 value types, scalars, strings and arrays as held in
//! memory, and their checked decoding from a file's bytes (used by io/gguf.hpp).
//!
//! Encoding (little-endian): u32 type, then the value; a string is {u64 length, bytes}; an
//! array is {u32 element type, u64 count, elements}. BOOL is one byte, 0 or 1.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"
#include "spikequant/io/detail/utf8.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace spikequant::inline v0::io {

//! The value types of GGUF metadata; the numbers are the file's.
enum class GgufValueType : std::uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

//! gguf-py's name of a value type ("UINT32", "STRING", ...).
inline constexpr std::string_view to_string(GgufValueType t) noexcept {
  constexpr std::array<std::string_view, 13> names{
      "UINT8",
      "INT8",
      "UINT16",
      "INT16",
      "UINT32",
      "INT32",
      "FLOAT32",
      "BOOL",
      "STRING",
      "ARRAY",
      "UINT64",
      "INT64",
      "FLOAT64"};
  auto const i = static_cast<std::uint32_t>(t);
  return i < names.size() ? names[i] : "?";
}

//! A metadata array: one element type, its values. Arrays of arrays are refused at parse
//! time (llama.cpp writes none and reads none), so alternative 9 is never held.
struct GgufArray {
  // Alternative i holds elements of GgufValueType i.
  using Values = std::variant<
      std::vector<std::uint8_t>,
      std::vector<std::int8_t>,
      std::vector<std::uint16_t>,
      std::vector<std::int16_t>,
      std::vector<std::uint32_t>,
      std::vector<std::int32_t>,
      std::vector<float>,
      std::vector<bool>,
      std::vector<std::string>,
      std::monostate,
      std::vector<std::uint64_t>,
      std::vector<std::int64_t>,
      std::vector<double>>;
  Values values;
  [[nodiscard]] GgufValueType type() const noexcept {
    return static_cast<GgufValueType>(values.index());
  }
  [[nodiscard]] std::size_t size() const noexcept {
    return std::visit(
        [](auto const& v) -> std::size_t {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) {
            return 0;
          } else {
            return v.size();
          }
        },
        values);
  }
};

//! One metadata value; the variant's index is its GgufValueType.
struct GgufValue {
  using Storage = std::variant<
      std::uint8_t,
      std::int8_t,
      std::uint16_t,
      std::int16_t,
      std::uint32_t,
      std::int32_t,
      float,
      bool,
      std::string,
      GgufArray,
      std::uint64_t,
      std::int64_t,
      double>;
  Storage value;
  [[nodiscard]] GgufValueType type() const noexcept {
    return static_cast<GgufValueType>(value.index());
  }
};

namespace detail {

// Dispatches on a scalar value type: f(std::type_identity<T>{}).
template <class F>
decltype(auto) with_gguf_scalar_type(GgufValueType t, F&& f) {
  switch (t) {
  case GgufValueType::kU8:
    return f(std::type_identity<std::uint8_t>{});
  case GgufValueType::kI8:
    return f(std::type_identity<std::int8_t>{});
  case GgufValueType::kU16:
    return f(std::type_identity<std::uint16_t>{});
  case GgufValueType::kI16:
    return f(std::type_identity<std::int16_t>{});
  case GgufValueType::kU32:
    return f(std::type_identity<std::uint32_t>{});
  case GgufValueType::kI32:
    return f(std::type_identity<std::int32_t>{});
  case GgufValueType::kF32:
    return f(std::type_identity<float>{});
  case GgufValueType::kBool:
    return f(std::type_identity<bool>{});
  case GgufValueType::kString:
    return f(std::type_identity<std::string>{});
  case GgufValueType::kU64:
    return f(std::type_identity<std::uint64_t>{});
  case GgufValueType::kI64:
    return f(std::type_identity<std::int64_t>{});
  case GgufValueType::kF64:
  default:  // kArray is handled by the callers
    return f(std::type_identity<double>{});
  }
}

// Smallest encoding of one element: a string is at least its 8-byte length.
inline std::int64_t gguf_min_size(GgufValueType t) {
  return with_gguf_scalar_type(t, [](auto id) -> std::int64_t {
    using T = typename decltype(id)::type;
    if constexpr (std::is_same_v<T, std::string>) {
      return 8;
    } else {
      return static_cast<std::int64_t>(sizeof(T));
    }
  });
}

//! Decodes metadata values from a cursor, checking every length and count against the bytes
//! left; errors are kFormat (kUnsupported for arrays of arrays) and name `source`.
class GgufValueReader {
public:
  GgufValueReader(ByteCursor& cur, std::string_view source)
      : cur_(cur)
      , source_(source) {}

  //! A string of `field`: u64 length within the buffer, then valid UTF-8 bytes.
  std::string read_string(std::string_view field) {
    auto const n = cur_.read<std::uint64_t>(field);
    require(
        n <= static_cast<std::uint64_t>(cur_.remaining()),
        ErrorKind::kFormat,
        source_,
        ": ",
        field,
        " length ",
        n,
        " at offset ",
        cur_.offset() - 8,
        " runs past the end of the file (",
        cur_.remaining(),
        " bytes left)");
    std::string s(detail::as_chars(cur_.take(static_cast<std::int64_t>(n), field)));
    auto const bad = detail::first_invalid_utf8(s);
    require(
        bad == std::string_view::npos,
        ErrorKind::kFormat,
        source_,
        ": ",
        field,
        " is not valid UTF-8 (byte ",
        bad,
        " of ",
        s.size(),
        ", string at offset ",
        cur_.offset() - static_cast<std::int64_t>(n),
        ")");
    return s;
  }

  //! A value of metadata `key`: u32 type, then the value (an array: u32 element type, u64
  //! count, elements).
  GgufValue read_value(std::string const& key) {
    auto const type = read_type(key);
    if (type != GgufValueType::kArray) {
      return with_gguf_scalar_type(type, [&](auto id) {
        using T = typename decltype(id)::type;
        std::string const field = "string value of '" + key + "'";
        return GgufValue{GgufValue::Storage(std::in_place_type<T>, read_scalar<T>(key, field))};
      });
    }
    auto const elem = read_type(key);
    require(
        elem != GgufValueType::kArray,
        ErrorKind::kUnsupported,
        source_,
        ": metadata '",
        key,
        "' is an array of arrays, which spikequant (like llama.cpp) does not read");
    auto const count = cur_.read<std::uint64_t>("array count");
    std::int64_t const esize = gguf_min_size(elem);
    require(
        count <= static_cast<std::uint64_t>(cur_.remaining() / esize),
        ErrorKind::kFormat,
        source_,
        ": metadata '",
        key,
        "' claims ",
        count,
        " elements of ",
        to_string(elem),
        ", more than the ",
        cur_.remaining(),
        " bytes left can hold");
    return with_gguf_scalar_type(elem, [&](auto id) {
      using T = typename decltype(id)::type;
      std::string const field = "string element of '" + key + "'";
      std::vector<T> values;
      values.reserve(static_cast<std::size_t>(count));
      for (std::uint64_t i = 0; i < count; ++i) {
        values.push_back(read_scalar<T>(key, field));
      }
      GgufArray a{GgufArray::Values(std::in_place_type<std::vector<T>>, std::move(values))};
      return GgufValue{GgufValue::Storage(std::in_place_type<GgufArray>, std::move(a))};
    });
  }

private:
  GgufValueType read_type(std::string const& key) {
    auto const t = cur_.read<std::uint32_t>("value type");
    require(
        t <= static_cast<std::uint32_t>(GgufValueType::kF64),
        ErrorKind::kFormat,
        source_,
        ": metadata '",
        key,
        "' has unknown value type ",
        t);
    return static_cast<GgufValueType>(t);
  }

  // `field` names a string value in errors (built once per array, not per element).
  template <class T>
  T read_scalar(std::string const& key, std::string_view field) {
    if constexpr (std::is_same_v<T, bool>) {
      auto const b = cur_.read<std::uint8_t>("bool");
      require(
          b <= 1,
          ErrorKind::kFormat,
          source_,
          ": metadata '",
          key,
          "' has a BOOL of ",
          static_cast<int>(b),
          " (must be 0 or 1)");
      return b != 0;
    } else if constexpr (std::is_same_v<T, std::string>) {
      return read_string(field);
    } else {
      return cur_.read<T>(key);
    }
  }

  ByteCursor& cur_;
  std::string_view source_;
};

}  // namespace detail
}  // namespace spikequant::v0::io
