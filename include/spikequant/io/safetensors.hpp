// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Safetensors reader (F32 / F16 / BF16 to float) with full validation. The writer is
//! io/safetensors_writer.hpp.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"
#include "spikequant/io/half.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spikequant::inline v0::io {

//! Element types of the safetensors format. Only kF32, kF16 and kBF16 convert to float.
enum class Dtype { kF32, kF16, kBF16, kF64, kI64, kI32, kI16, kI8, kU8, kBool, kF8E4M3, kF8E5M2 };

//! The name safetensors uses ("F32", "BF16", ...).
inline constexpr std::string_view to_string(Dtype d) noexcept {
  switch (d) {
  case Dtype::kF32:
    return "F32";
  case Dtype::kF16:
    return "F16";
  case Dtype::kBF16:
    return "BF16";
  case Dtype::kF64:
    return "F64";
  case Dtype::kI64:
    return "I64";
  case Dtype::kI32:
    return "I32";
  case Dtype::kI16:
    return "I16";
  case Dtype::kI8:
    return "I8";
  case Dtype::kU8:
    return "U8";
  case Dtype::kBool:
    return "BOOL";
  case Dtype::kF8E4M3:
    return "F8_E4M3";
  case Dtype::kF8E5M2:
    return "F8_E5M2";
  }
  return "?";
}

//! Bytes per element.
inline constexpr std::int64_t dtype_size(Dtype d) noexcept {
  switch (d) {
  case Dtype::kF64:
  case Dtype::kI64:
    return 8;
  case Dtype::kF32:
  case Dtype::kI32:
    return 4;
  case Dtype::kF16:
  case Dtype::kBF16:
  case Dtype::kI16:
    return 2;
  default:
    return 1;
  }
}

//! Parses a dtype name; std::nullopt when unknown.
inline std::optional<Dtype> parse_dtype(std::string_view s) noexcept {
  for (Dtype d :
       {Dtype::kF32,
        Dtype::kF16,
        Dtype::kBF16,
        Dtype::kF64,
        Dtype::kI64,
        Dtype::kI32,
        Dtype::kI16,
        Dtype::kI8,
        Dtype::kU8,
        Dtype::kBool,
        Dtype::kF8E4M3,
        Dtype::kF8E5M2}) {
    if (to_string(d) == s) {
      return d;
    }
  }
  return std::nullopt;
}

//! One tensor's entry in a safetensors header.
struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;
  std::int64_t begin = 0;  //!< byte offset from the start of the data region
  std::int64_t end = 0;    //!< one past the last byte
  [[nodiscard]] std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) {
      n *= d;  // validated not to overflow at parse time
    }
    return n;
  }
};

//! Formats a shape as "[2, 3]".
inline std::string shape_string(std::span<std::int64_t const> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return s + "]";
}

//! Largest header the reader accepts (the format's own limit is 100 MB).
inline constexpr std::int64_t kMaxSafetensorsHeader = 100'000'000;
//! Deepest JSON nesting accepted in headers and config files (theirs is at most 3).
inline constexpr int kMaxJsonDepth = 64;

namespace detail {

//! Rejects JSON nested deeper than `max_depth` before handing it to the parser.
inline void
check_json_depth(std::string_view text, std::string_view what, int max_depth = kMaxJsonDepth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      require(
          ++depth <= max_depth, ErrorKind::kFormat, what, ": JSON nested deeper than ", max_depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

//! Parses JSON text without exceptions from the parser; kFormat naming `what` on error.
inline nlohmann::json parse_json(std::string_view text, std::string_view what) {
  check_json_depth(text, what);
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  require(!j.is_discarded(), ErrorKind::kFormat, what, ": invalid JSON");
  return j;
}

//! A non-negative integer JSON value (unsigned or non-negative signed) as int64.
inline std::int64_t json_index(nlohmann::json const& v, std::string_view what) {
  if (v.is_number_unsigned()) {
    auto const u = v.get<std::uint64_t>();
    require(
        u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
        ErrorKind::kFormat,
        what,
        ": value ",
        u,
        " too large");
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) {
    auto const s = v.get<std::int64_t>();
    require(s >= 0, ErrorKind::kFormat, what, ": negative value ", s);
    return s;
  }
  fail(ErrorKind::kFormat, what, ": expected a non-negative integer, got ", v.type_name());
}

}  // namespace detail

//! A parsed safetensors file: the validated header, and the data (in memory, or read from
//! the file on demand so a large checkpoint is not held twice).
//! - Validation: 8-byte length within the file and <= 100 MB; the header a JSON object of
//!   {dtype, shape, data_offsets} entries plus optional "__metadata__" (string values);
//!   known dtype; shape entries >= 0 whose product times the element size, overflow
//!   checked, equals end - begin; 0 <= begin <= end <= data size; no two tensors overlap.
class Safetensors {
public:
  //! Parses a file held in memory (the bytes are copied).
  static Safetensors parse(std::span<std::byte const> bytes, std::string source = "safetensors") {
    Safetensors st;
    st.source_ = std::move(source);
    st.memory_ = std::make_shared<std::vector<std::byte> const>(bytes.begin(), bytes.end());
    st.parse_header(*st.memory_, static_cast<std::int64_t>(st.memory_->size()));
    return st;
  }

  //! Opens a file: reads and validates the header; tensor data is read on demand.
  static Safetensors open(std::filesystem::path const& path) {
    Safetensors st;
    st.source_ = path.string();
    st.path_ = path;
    std::int64_t const size = detail::file_bytes(path);
    std::ifstream in(path, std::ios::binary);
    require(in.is_open(), ErrorKind::kIo, "cannot open '", st.source_, "'");
    require(
        size >= 8,
        ErrorKind::kFormat,
        st.source_,
        ": truncated (",
        size,
        " bytes, no header length)");
    std::vector<std::byte> head(8);
    detail::read_range(in, path, 0, head);
    std::uint64_t n = 0;
    std::memcpy(&n, head.data(), 8);
    require(
        n <= static_cast<std::uint64_t>(std::min(kMaxSafetensorsHeader, size - 8)),
        ErrorKind::kFormat,
        st.source_,
        ": header length ",
        n,
        " exceeds the file (",
        size,
        " bytes) or the 100 MB limit");
    head.resize(static_cast<std::size_t>(8 + n));
    detail::read_range(in, path, 0, head);
    st.parse_header(head, size);
    return st;
  }

  [[nodiscard]] std::string const& source() const noexcept { return source_; }
  //! Tensors in the order of their data offsets.
  [[nodiscard]] std::vector<TensorInfo> const& tensors() const noexcept { return tensors_; }
  [[nodiscard]] std::map<std::string, std::string> const& metadata() const noexcept {
    return metadata_;
  }
  [[nodiscard]] bool contains(std::string_view name) const { return find(name) != nullptr; }

  //! The entry for `name`, or nullptr.
  [[nodiscard]] TensorInfo const* find(std::string_view name) const {
    auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &tensors_[it->second];
  }

  //! The entry for `name`; kFormat naming the tensor and the file when absent.
  [[nodiscard]] TensorInfo const& info(std::string_view name) const {
    auto const* t = find(name);
    require(t != nullptr, ErrorKind::kFormat, source_, ": missing tensor '", name, "'");
    return *t;
  }

  //! The raw little-endian bytes of a tensor.
  [[nodiscard]] std::vector<std::byte> raw(TensorInfo const& t) const {
    std::vector<std::byte> out(static_cast<std::size_t>(t.end - t.begin));
    if (out.empty()) {
      return out;
    }
    if (memory_) {
      std::memcpy(out.data(), memory_->data() + data_begin_ + t.begin, out.size());
    } else {
      std::ifstream in(path_, std::ios::binary);
      require(in.is_open(), ErrorKind::kIo, "cannot open '", source_, "'");
      require(
          detail::file_bytes(path_) == file_size_,
          ErrorKind::kIo,
          source_,
          ": file changed size while reading");
      detail::read_range(in, path_, data_begin_ + t.begin, out);
    }
    return out;
  }

  //! A tensor converted to float (F32 copied, F16 / BF16 widened exactly).
  //! @throws Error kFormat when absent, kUnsupported for other dtypes.
  [[nodiscard]] std::vector<float> to_float(std::string_view name) const {
    return to_float(info(name));
  }

  [[nodiscard]] std::vector<float> to_float(TensorInfo const& t) const {
    auto const bytes = raw(t);
    auto const n = static_cast<std::size_t>(t.numel());
    std::vector<float> out(n);
    switch (t.dtype) {
    case Dtype::kF32:
      if (n > 0) {
        std::memcpy(out.data(), bytes.data(), n * 4);
      }
      break;
    case Dtype::kF16:
    case Dtype::kBF16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h = 0;
        std::memcpy(&h, bytes.data() + 2 * i, 2);
        out[i] = t.dtype == Dtype::kF16 ? f16_to_float(h) : bf16_to_float(h);
      }
      break;
    default:
      fail(
          ErrorKind::kUnsupported,
          source_,
          ": tensor '",
          t.name,
          "' has dtype ",
          to_string(t.dtype),
          "; only F32, F16 and BF16 convert to float");
    }
    return out;
  }

private:
  Safetensors() = default;

  // `head` holds at least the first 8 + header bytes; `total` is the whole file size.
  void parse_header(std::span<std::byte const> head, std::int64_t total) {
    detail::ByteCursor cur(head, "safetensors");
    require(
        total >= 8,
        ErrorKind::kFormat,
        source_,
        ": truncated (",
        total,
        " bytes, no header length)");
    auto const n = cur.read<std::uint64_t>("header length");
    require(
        n <= static_cast<std::uint64_t>(std::min(kMaxSafetensorsHeader, total - 8)),
        ErrorKind::kFormat,
        source_,
        ": header length ",
        n,
        " exceeds the file (",
        total,
        " bytes) or the 100 MB limit");
    auto const text = detail::as_chars(cur.take(static_cast<std::int64_t>(n), "header"));
    file_size_ = total;
    data_begin_ = 8 + static_cast<std::int64_t>(n);
    std::int64_t const data_size = total - data_begin_;

    auto const j = detail::parse_json(text, source_ + " header");
    require(j.is_object(), ErrorKind::kFormat, source_, ": header is not a JSON object");
    for (auto const& [key, value] : j.items()) {
      if (key == "__metadata__") {
        require(value.is_object(), ErrorKind::kFormat, source_, ": __metadata__ is not an object");
        for (auto const& [mk, mv] : value.items()) {
          require(
              mv.is_string(),
              ErrorKind::kFormat,
              source_,
              ": __metadata__['",
              mk,
              "'] is not a string");
          metadata_[mk] = mv.get<std::string>();
        }
        continue;
      }
      std::string const what = source_ + ": tensor '" + key + "'";
      require(value.is_object(), ErrorKind::kFormat, what, " is not an object");
      auto const dt = value.find("dtype");
      auto const sh = value.find("shape");
      auto const off = value.find("data_offsets");
      require(
          dt != value.end() && sh != value.end() && off != value.end(),
          ErrorKind::kFormat,
          what,
          " needs dtype, shape and data_offsets");
      require(dt->is_string(), ErrorKind::kFormat, what, ": dtype is not a string");
      auto const dtype = parse_dtype(dt->get_ref<std::string const&>());
      require(
          dtype.has_value(),
          ErrorKind::kFormat,
          what,
          ": unknown dtype '",
          dt->get_ref<std::string const&>(),
          "'");
      require(sh->is_array(), ErrorKind::kFormat, what, ": shape is not an array");
      require(
          off->is_array() && off->size() == 2,
          ErrorKind::kFormat,
          what,
          ": data_offsets is not [begin, end]");
      TensorInfo t;
      t.name = key;
      t.dtype = *dtype;
      std::int64_t bytes = dtype_size(*dtype);
      for (auto const& d : *sh) {
        t.shape.push_back(detail::json_index(d, what + " shape"));
        bytes = detail::checked_mul(bytes, t.shape.back(), what + " shape");
      }
      t.begin = detail::json_index((*off)[0], what + " data_offsets");
      t.end = detail::json_index((*off)[1], what + " data_offsets");
      require(
          t.begin <= t.end && t.end <= data_size,
          ErrorKind::kFormat,
          what,
          ": data_offsets [",
          t.begin,
          ", ",
          t.end,
          "] outside the data region of ",
          data_size,
          " bytes");
      require(
          t.end - t.begin == bytes,
          ErrorKind::kFormat,
          what,
          ": data_offsets span ",
          t.end - t.begin,
          " bytes but ",
          to_string(t.dtype),
          " ",
          shape_string(t.shape),
          " needs ",
          bytes);
      tensors_.push_back(std::move(t));
    }
    std::sort(tensors_.begin(), tensors_.end(), [](TensorInfo const& a, TensorInfo const& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::int64_t max_end = 0;
    std::string const* max_name = nullptr;
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      auto const& t = tensors_[i];
      if (t.begin < t.end) {  // empty tensors occupy no bytes
        require(
            max_name == nullptr || t.begin >= max_end,
            ErrorKind::kFormat,
            source_,
            ": tensors '",
            max_name == nullptr ? std::string() : *max_name,
            "' and '",
            t.name,
            "' overlap");
        max_end = t.end;
        max_name = &t.name;
      }
      require(
          index_.emplace(t.name, i).second,
          ErrorKind::kFormat,
          source_,
          ": duplicate tensor '",
          t.name,
          "'");
    }
  }

  std::string source_;
  std::filesystem::path path_;
  std::shared_ptr<std::vector<std::byte> const> memory_;
  std::int64_t data_begin_ = 0;
  std::int64_t file_size_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace spikequant::v0::io
