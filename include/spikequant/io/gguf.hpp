// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file GGUF reader (llama.cpp's checkpoint container, versions 2 and 3): header, metadata
//! key/values of every value type, tensor infos, alignment and the data section, memory-mapped.
//! Every count, length, size and offset is checked against the file before it is used.
//!
//! Layout (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv; n_kv times
//! {string key, u32 value type, value}; n_tensors times {string name, u32 n_dims,
//! u64 ne[n_dims], u32 ggml type, u64 offset}; padding to `general.alignment` (default 32);
//! the data section, each tensor at its offset from the section start. A string is
//! {u64 length, bytes}; an array is {u32 element type, u64 count, elements}.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"
#include "spikequant/io/ggml_type.hpp"
#include "spikequant/io/gguf_dequant.hpp"
#include "spikequant/io/gguf_value.hpp"
#include "spikequant/io/mapped_file.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace spikequant::inline v0::io {

//! "GGUF" as a little-endian uint32.
inline constexpr std::uint32_t kGgufMagic = 0x46554747u;
//! Alignment of the data section and of each tensor when general.alignment is absent.
inline constexpr std::uint32_t kGgufDefaultAlignment = 32;
//! Most dimensions a tensor may have (ggml's GGML_MAX_DIMS).
inline constexpr std::uint32_t kGgufMaxDims = 4;

//! One tensor's entry in a GGUF file.
struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::kF32;
  //! Dimensions in ggml order: ne[0] is the contiguous one (the row length). numpy and
  //! PyTorch list them reversed (a [out, in] weight has ne = {in, out}).
  std::vector<std::int64_t> ne;
  std::int64_t offset = 0;      //!< from the start of the data section
  std::int64_t n_elements = 0;  //!< product of ne (1 for a 0-d tensor)
  std::int64_t n_bytes = 0;     //!< n_elements / block size * type size
  //! Elements per row (ne[0]) and rows (the product of the other dims).
  [[nodiscard]] std::int64_t row_length() const noexcept { return ne.empty() ? 1 : ne[0]; }
  [[nodiscard]] std::int64_t rows() const noexcept {
    return row_length() == 0 ? 0 : n_elements / row_length();
  }
};

//! A parsed GGUF file over a memory-mapped (or in-memory) byte buffer.
//! - Validation: magic; version 2 or 3 (1 and big-endian files are refused by name);
//!   tensor and key counts that could fit in the rest of the file; every string's length
//!   within the file and valid UTF-8; known value types, bools 0 or 1, no nested arrays,
//!   array counts that fit; unique keys; general.alignment a UINT32 power of two; tensor
//!   names unique, at most 4 dims, a known ggml type, ne[0] a multiple of its block size,
//!   element and byte counts without int64 overflow, offsets multiples of the alignment,
//!   data within the file, no two tensors overlapping.
class Gguf {
public:
  //! Maps and parses `path`; kIo if it cannot be read, kFormat / kUnsupported if invalid.
  static Gguf open(std::filesystem::path const& path) {
    return Gguf(MappedFile::open(path), path.string());
  }

  //! Parses a file held in memory (the bytes are copied).
  static Gguf parse(std::span<std::byte const> bytes, std::string source = "gguf") {
    return Gguf(MappedFile::from_bytes(bytes), std::move(source));
  }

  [[nodiscard]] std::string const& source() const noexcept { return source_; }
  [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
  [[nodiscard]] std::uint32_t alignment() const noexcept { return alignment_; }
  //! Byte offset of the data section from the start of the file.
  [[nodiscard]] std::int64_t data_offset() const noexcept { return data_offset_; }

  //! Metadata in file order.
  [[nodiscard]] std::vector<std::pair<std::string, GgufValue>> const& metadata() const noexcept {
    return metadata_;
  }
  //! Tensors in file order.
  [[nodiscard]] std::vector<GgufTensorInfo> const& tensors() const noexcept { return tensors_; }

  [[nodiscard]] GgufValue const* find(std::string_view key) const {
    auto it = key_index_.find(key);
    return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
  }
  [[nodiscard]] bool contains(std::string_view key) const { return find(key) != nullptr; }

  //! The value of `key`; kFormat naming the key and the file when absent.
  [[nodiscard]] GgufValue const& value(std::string_view key) const {
    auto const* v = find(key);
    require(v != nullptr, ErrorKind::kFormat, source_, ": missing metadata key '", key, "'");
    return *v;
  }

  //! The value of `key` as exactly type T (e.g. std::uint32_t, std::string, GgufArray);
  //! kFormat naming both types on a mismatch.
  template <class T>
  [[nodiscard]] T const& get(std::string_view key) const {
    auto const& v = value(key);
    auto const* p = std::get_if<T>(&v.value);
    require(
        p != nullptr,
        ErrorKind::kFormat,
        source_,
        ": metadata '",
        key,
        "' is ",
        to_string(v.type()),
        ", not the type asked for");
    return *p;
  }

  [[nodiscard]] std::string const& get_string(std::string_view key) const {
    return get<std::string>(key);
  }

  //! Any integer-typed value as int64 (UINT64 above INT64_MAX is kFormat).
  [[nodiscard]] std::int64_t get_int(std::string_view key) const {
    auto const& v = value(key);
    return std::visit(
        [&](auto const& x) -> std::int64_t {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            if constexpr (std::is_same_v<T, std::uint64_t>) {
              require(
                  x <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
                  ErrorKind::kFormat,
                  source_,
                  ": metadata '",
                  key,
                  "' = ",
                  x,
                  " does not fit int64");
            }
            return static_cast<std::int64_t>(x);
          } else {
            fail(
                ErrorKind::kFormat,
                source_,
                ": metadata '",
                key,
                "' is ",
                to_string(v.type()),
                ", not an integer");
          }
        },
        v.value);
  }

  //! A FLOAT32 or FLOAT64 value as double.
  [[nodiscard]] double get_float(std::string_view key) const {
    auto const& v = value(key);
    if (auto const* f = std::get_if<float>(&v.value)) {
      return *f;
    }
    return get<double>(key);
  }

  [[nodiscard]] bool get_bool(std::string_view key) const { return get<bool>(key); }

  //! The elements of an array value of element type T (e.g. std::string, float, int32_t).
  template <class T>
  [[nodiscard]] std::vector<T> const& get_array(std::string_view key) const {
    auto const& a = get<GgufArray>(key);
    auto const* p = std::get_if<std::vector<T>>(&a.values);
    require(
        p != nullptr,
        ErrorKind::kFormat,
        source_,
        ": metadata '",
        key,
        "' is an array of ",
        to_string(a.type()),
        ", not of the type asked for");
    return *p;
  }

  [[nodiscard]] GgufTensorInfo const* find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
  }

  //! The entry for `name`; kFormat naming the tensor and the file when absent.
  [[nodiscard]] GgufTensorInfo const& tensor(std::string_view name) const {
    auto const* t = find_tensor(name);
    require(t != nullptr, ErrorKind::kFormat, source_, ": missing tensor '", name, "'");
    return *t;
  }

  //! The stored bytes of a tensor (a view into the mapping, valid while this object lives).
  [[nodiscard]] std::span<std::byte const> raw(GgufTensorInfo const& t) const {
    return file_.bytes().subspan(
        static_cast<std::size_t>(data_offset_ + t.offset), static_cast<std::size_t>(t.n_bytes));
  }

  //! Rows [first, first + count) of a tensor converted to float (a row is ne[0] elements).
  //! @throws Error kInvalidArgument for rows out of range, kUnsupported for a type
  //! can_dequantize() rejects.
  [[nodiscard]] std::vector<float>
  rows_to_float(GgufTensorInfo const& t, std::int64_t first, std::int64_t count) const {
    require(
        first >= 0 && count >= 0 && first <= t.rows() && count <= t.rows() - first,
        ErrorKind::kInvalidArgument,
        source_,
        ": rows [",
        first,
        ", ",
        first + count,
        ") of tensor '",
        t.name,
        "' with ",
        t.rows(),
        " rows");
    require(
        can_dequantize(t.type),
        ErrorKind::kUnsupported,
        source_,
        ": tensor '",
        t.name,
        "' has ggml type ",
        to_string(t.type),
        ", which spikequant cannot convert to float");
    auto const tr = ggml_type_traits(t.type);
    std::int64_t const row_bytes = t.row_length() / tr.block_size * tr.type_size;
    std::vector<float> out(static_cast<std::size_t>(count * t.row_length()));
    dequantize(
        t.type,
        raw(t).subspan(
            static_cast<std::size_t>(first * row_bytes),
            static_cast<std::size_t>(count * row_bytes)),
        out);
    return out;
  }

  //! A whole tensor converted to float, in ggml order (ne[0] fastest).
  [[nodiscard]] std::vector<float> to_float(GgufTensorInfo const& t) const {
    return rows_to_float(t, 0, t.rows());
  }
  [[nodiscard]] std::vector<float> to_float(std::string_view name) const {
    return to_float(tensor(name));
  }

private:
  Gguf(MappedFile file, std::string source)
      : file_(std::move(file))
      , source_(std::move(source)) {
    parse_all();
  }

  // --- parsing ------------------------------------------------------------------------
  void parse_all() {
    auto const bytes = file_.bytes();
    detail::ByteCursor cur(bytes, source_);
    detail::GgufValueReader values(cur, source_);
    require(
        cur.size() >= 24,
        ErrorKind::kFormat,
        source_,
        ": truncated (",
        cur.size(),
        " bytes; a GGUF header alone is 24)");
    auto const magic = cur.read<std::uint32_t>("magic");
    require(
        magic == kGgufMagic,
        ErrorKind::kFormat,
        source_,
        ": not a GGUF file (magic 0x",
        hex(magic),
        ", expected 0x46554747 \"GGUF\")");
    version_ = cur.read<std::uint32_t>("version");
    require(
        !((version_ & 0xFFFFu) == 0 && version_ != 0),
        ErrorKind::kUnsupported,
        source_,
        ": big-endian GGUF (version field 0x",
        hex(version_),
        ") is not supported");
    require(
        version_ == 2 || version_ == 3,
        version_ == 1 ? ErrorKind::kUnsupported : ErrorKind::kFormat,
        source_,
        ": GGUF version ",
        version_,
        " is not supported (2 and 3 are)");
    auto const n_tensors = cur.read<std::uint64_t>("tensor count");
    auto const n_kv = cur.read<std::uint64_t>("metadata count");
    // A key/value takes at least 13 bytes (8 key length + 4 type + 1), a tensor info 24
    // (8 name length + 4 n_dims + 4 type + 8 offset): bound both before reserving.
    auto const left = static_cast<std::uint64_t>(cur.remaining());
    require(
        n_kv <= left / 13 && n_tensors <= left / 24 && n_kv * 13 + n_tensors * 24 <= left,
        ErrorKind::kFormat,
        source_,
        ": header claims ",
        n_tensors,
        " tensors and ",
        n_kv,
        " metadata entries, more than the ",
        left,
        " bytes after it can hold");

    metadata_.reserve(static_cast<std::size_t>(n_kv));
    for (std::uint64_t i = 0; i < n_kv; ++i) {
      std::string key = values.read_string("metadata key");
      GgufValue v = values.read_value(key);
      require(
          key_index_.emplace(key, metadata_.size()).second,
          ErrorKind::kFormat,
          source_,
          ": duplicate metadata key '",
          key,
          "'");
      metadata_.emplace_back(std::move(key), std::move(v));
    }
    if (auto const* a = find("general.alignment")) {
      auto const* u = std::get_if<std::uint32_t>(&a->value);
      require(
          u != nullptr,
          ErrorKind::kFormat,
          source_,
          ": general.alignment is ",
          to_string(a->type()),
          ", must be UINT32");
      require(
          *u != 0 && (*u & (*u - 1)) == 0,
          ErrorKind::kFormat,
          source_,
          ": general.alignment ",
          *u,
          " is not a power of two");
      alignment_ = *u;
    }

    tensors_.reserve(static_cast<std::size_t>(n_tensors));
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
      tensors_.push_back(read_tensor_info(cur));
      require(
          tensor_index_.emplace(tensors_.back().name, tensors_.size() - 1).second,
          ErrorKind::kFormat,
          source_,
          ": duplicate tensor '",
          tensors_.back().name,
          "'");
    }

    std::int64_t const end_of_infos = cur.offset();
    std::int64_t const a = alignment_;
    data_offset_ = detail::checked_add(end_of_infos, a - 1, "data offset") / a * a;
    std::int64_t const data_size = std::max<std::int64_t>(cur.size() - data_offset_, 0);
    require(
        tensors_.empty() || data_offset_ <= cur.size(),
        ErrorKind::kFormat,
        source_,
        ": truncated: the data section would start at ",
        data_offset_,
        ", past the end of the file (",
        cur.size(),
        " bytes)");
    std::vector<std::size_t> order(tensors_.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      auto const& t = tensors_[i];
      order[i] = i;
      require(
          t.offset % a == 0,
          ErrorKind::kFormat,
          source_,
          ": tensor '",
          t.name,
          "' at data offset ",
          t.offset,
          " is not a multiple of the alignment ",
          a);
      require(
          t.offset <= data_size && t.n_bytes <= data_size - t.offset,
          ErrorKind::kFormat,
          source_,
          ": tensor '",
          t.name,
          "' (",
          t.n_bytes,
          " bytes at data offset ",
          t.offset,
          ") runs past the end of the file (data section of ",
          data_size,
          " bytes)");
    }
    std::sort(order.begin(), order.end(), [this](std::size_t x, std::size_t y) {
      return tensors_[x].offset < tensors_[y].offset;
    });
    GgufTensorInfo const* prev = nullptr;
    for (auto i : order) {
      auto const& t = tensors_[i];
      if (t.n_bytes == 0) {
        continue;  // empty tensors occupy no bytes
      }
      require(
          prev == nullptr || t.offset >= prev->offset + prev->n_bytes,
          ErrorKind::kFormat,
          source_,
          ": tensors '",
          prev == nullptr ? std::string() : prev->name,
          "' and '",
          t.name,
          "' overlap");
      prev = &t;
    }
  }

  GgufTensorInfo read_tensor_info(detail::ByteCursor& cur) {
    GgufTensorInfo t;
    t.name = detail::GgufValueReader(cur, source_).read_string("tensor name");
    std::string const what = source_ + ": tensor '" + t.name + "'";
    auto const n_dims = cur.read<std::uint32_t>("n_dims");
    require(
        n_dims <= kGgufMaxDims,
        ErrorKind::kFormat,
        what,
        " has ",
        n_dims,
        " dimensions (at most ",
        kGgufMaxDims,
        ")");
    t.n_elements = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      auto const n = cur.read<std::uint64_t>("tensor dimension");
      require(
          n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
          ErrorKind::kFormat,
          what,
          ": dimension ",
          d,
          " = ",
          n,
          " is too large");
      t.ne.push_back(static_cast<std::int64_t>(n));
      t.n_elements = detail::checked_mul(t.n_elements, t.ne.back(), what + " element count");
    }
    auto const type_id = cur.read<std::uint32_t>("tensor type");
    auto const tr = ggml_type_traits(type_id);
    require(tr.has_value(), ErrorKind::kFormat, what, " has unknown ggml type id ", type_id);
    t.type = tr->type;
    require(
        t.row_length() % tr->block_size == 0,
        ErrorKind::kFormat,
        what,
        ": row length ne[0] = ",
        t.row_length(),
        " is not a multiple of the ",
        tr->name,
        " block size ",
        tr->block_size);
    t.n_bytes = detail::checked_mul(t.n_elements / tr->block_size, tr->type_size, what + " size");
    // One row's bytes must fit too: with a zero dimension the tensor has no bytes at all, but
    // ne[0] alone may still be huge (found by fuzz_gguf: rows_to_float multiplied it).
    (void)detail::checked_mul(t.row_length() / tr->block_size, tr->type_size, what + " row size");
    auto const off = cur.read<std::uint64_t>("tensor offset");
    require(
        off <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
        ErrorKind::kFormat,
        what,
        ": offset ",
        off,
        " is too large");
    t.offset = static_cast<std::int64_t>(off);
    return t;
  }

  static std::string hex(std::uint32_t v) {
    char buf[9];
    for (int i = 7; i >= 0; --i, v >>= 4) {
      buf[i] = "0123456789ABCDEF"[v & 0xF];
    }
    buf[8] = '\0';
    return buf;
  }

  MappedFile file_;
  std::string source_;
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = kGgufDefaultAlignment;
  std::int64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> key_index_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
};

}  // namespace spikequant::v0::io
