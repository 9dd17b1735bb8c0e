// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Safetensors writer: float tensors stored as F32 / F16 / BF16, INT8 tensors stored as
//! I8 (what a compressed-tensors checkpoint holds), one file or Hugging Face shards
//! (model-0000i-of-0000N.safetensors + model.safetensors.index.json) past a size limit.
//! The reader is io/safetensors.hpp; everything written here reads back through it.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/io/detail/bytes.hpp"
#include "spikequant/io/half.hpp"
#include "spikequant/io/safetensors.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

namespace spikequant::inline v0::io {

//! A tensor to write: float values stored as `dtype` (F32, F16 or BF16, rounded to
//! nearest even).
struct TensorToWrite {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;  // row-major, product(shape) elements
  Dtype dtype = Dtype::kF32;
};

//! A tensor already encoded: its dtype, shape and little-endian bytes, as they go to disk.
struct EncodedTensor {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data;  // product(shape) * dtype_size(dtype) bytes
};

namespace detail {
inline std::int64_t numel_checked(std::span<std::int64_t const> shape, std::string_view what) {
  std::int64_t n = 1;
  for (auto d : shape) {
    n = checked_mul(n, d, what);
  }
  return n;
}
}  // namespace detail

//! Encodes float values as F32, F16 or BF16 (the last two round to nearest even).
inline EncodedTensor encode_tensor(TensorToWrite const& t) {
  require(
      t.dtype == Dtype::kF32 || t.dtype == Dtype::kF16 || t.dtype == Dtype::kBF16,
      ErrorKind::kUnsupported,
      "safetensors writer: float values cannot be stored as ",
      to_string(t.dtype),
      " ('",
      t.name,
      "')");
  std::int64_t const n = detail::numel_checked(t.shape, "safetensors writer shape");
  require(
      n == static_cast<std::int64_t>(t.values.size()),
      ErrorKind::kShape,
      "safetensors writer: '",
      t.name,
      "' has ",
      t.values.size(),
      " values for shape ",
      shape_string(t.shape));
  EncodedTensor e{
      t.name,
      t.dtype,
      t.shape,
      std::vector<std::byte>(static_cast<std::size_t>(n * dtype_size(t.dtype)))};
  std::byte* p = e.data.data();
  if (t.dtype == Dtype::kF32) {
    std::memcpy(p, t.values.data(), e.data.size());
    return e;
  }
  for (float v : t.values) {
    std::uint16_t const h = t.dtype == Dtype::kF16 ? float_to_f16(v) : float_to_bf16(v);
    std::memcpy(p, &h, 2);
    p += 2;
  }
  return e;
}

//! Encodes INT8 codes as an I8 tensor.
inline EncodedTensor encode_int8_tensor(
    std::string name, std::vector<std::int64_t> shape, std::span<std::int8_t const> codes) {
  std::int64_t const n = detail::numel_checked(shape, "safetensors writer shape");
  require(
      n == static_cast<std::int64_t>(codes.size()),
      ErrorKind::kShape,
      "safetensors writer: '",
      name,
      "' has ",
      codes.size(),
      " codes for shape ",
      shape_string(shape));
  EncodedTensor e{
      std::move(name), Dtype::kI8, std::move(shape), std::vector<std::byte>(codes.size())};
  if (!codes.empty()) {
    std::memcpy(e.data.data(), codes.data(), codes.size());
  }
  return e;
}

namespace detail {
//! The header text (padded with spaces to a multiple of 8 like the reference implementation)
//! for tensors laid out back to back in the given order.
inline std::string safetensors_header(
    std::span<EncodedTensor const> tensors, std::map<std::string, std::string> const& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    header["__metadata__"] = metadata;
  }
  std::int64_t offset = 0;
  for (auto const& t : tensors) {
    std::int64_t const n = numel_checked(t.shape, "safetensors writer shape");
    std::int64_t const bytes = checked_mul(n, dtype_size(t.dtype), "safetensors writer size");
    require(
        bytes == static_cast<std::int64_t>(t.data.size()),
        ErrorKind::kShape,
        "safetensors writer: '",
        t.name,
        "' holds ",
        t.data.size(),
        " bytes, its shape ",
        shape_string(t.shape),
        " of ",
        to_string(t.dtype),
        " needs ",
        bytes);
    require(
        !header.contains(t.name) && t.name != "__metadata__",
        ErrorKind::kInvalidArgument,
        "safetensors writer: tensor name '",
        t.name,
        "' given twice or reserved");
    header[t.name] = {
        {"dtype", to_string(t.dtype)},
        {"shape", t.shape},
        {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}
}  // namespace detail

//! Serializes encoded tensors to safetensors bytes (laid out in the given order).
inline std::vector<std::byte> serialize_safetensors(
    std::span<EncodedTensor const> tensors,
    std::map<std::string, std::string> const& metadata = {}) {
  std::string const text = detail::safetensors_header(tensors, metadata);
  std::size_t total = 8 + text.size();
  for (auto const& t : tensors) {
    total += t.data.size();
  }
  std::vector<std::byte> out(total);
  std::uint64_t const n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::byte* p = out.data() + 8 + text.size();
  for (auto const& t : tensors) {
    if (!t.data.empty()) {
      std::memcpy(p, t.data.data(), t.data.size());
      p += t.data.size();
    }
  }
  return out;
}

//! Serializes float tensors (see encode_tensor) to safetensors bytes.
inline std::vector<std::byte> serialize_safetensors(
    std::span<TensorToWrite const> tensors,
    std::map<std::string, std::string> const& metadata = {}) {
  std::vector<EncodedTensor> enc;
  enc.reserve(tensors.size());
  for (auto const& t : tensors) {
    enc.push_back(encode_tensor(t));
  }
  return serialize_safetensors(std::span<EncodedTensor const>(enc), metadata);
}

//! Writes encoded tensors to one safetensors file, streaming (no second copy of the data);
//! Error(kIo) on failure.
inline void write_safetensors(
    std::filesystem::path const& path,
    std::span<EncodedTensor const> tensors,
    std::map<std::string, std::string> const& metadata = {}) {
  std::string const text = detail::safetensors_header(tensors, metadata);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  require(out.is_open(), ErrorKind::kIo, "cannot create '", path.string(), "'");
  std::uint64_t const n = text.size();
  out.write(reinterpret_cast<char const*>(&n), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (auto const& t : tensors) {
    out.write(
        reinterpret_cast<char const*>(t.data.data()), static_cast<std::streamsize>(t.data.size()));
  }
  require(out.good(), ErrorKind::kIo, "cannot write '", path.string(), "'");
}

//! Writes float tensors (see encode_tensor) to a safetensors file; Error(kIo) on failure.
inline void write_safetensors(
    std::filesystem::path const& path,
    std::span<TensorToWrite const> tensors,
    std::map<std::string, std::string> const& metadata = {}) {
  auto const bytes = serialize_safetensors(tensors, metadata);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  require(out.is_open(), ErrorKind::kIo, "cannot create '", path.string(), "'");
  out.write(
      reinterpret_cast<char const*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  require(out.good(), ErrorKind::kIo, "cannot write '", path.string(), "'");
}

//! Writes a Hugging Face checkpoint's tensors into `dir`:
//! - all in `model.safetensors` when their data fits in `max_shard_bytes` (or it is <= 0);
//! - otherwise shards `model-00001-of-0000N.safetensors`, filled in the given order, a new
//!   shard started when the next tensor would pass the limit (a tensor larger than the limit
//!   gets a shard of its own, as transformers' save_pretrained does), plus
//!   `model.safetensors.index.json` ({"metadata": {"total_size"}, "weight_map"}).
//! Returns the file names written (relative to `dir`). Error(kIo) on failure.
inline std::vector<std::string> write_hf_safetensors(
    std::filesystem::path const& dir,
    std::span<EncodedTensor const> tensors,
    std::int64_t max_shard_bytes,
    std::map<std::string, std::string> const& metadata = {{"format", "pt"}}) {
  std::int64_t total = 0;
  for (auto const& t : tensors) {
    total = detail::checked_add(total, static_cast<std::int64_t>(t.data.size()), "checkpoint size");
  }
  if (max_shard_bytes <= 0 || total <= max_shard_bytes) {
    write_safetensors(dir / "model.safetensors", tensors, metadata);
    return {"model.safetensors"};
  }
  // Shard boundaries: [begin, end) index ranges into `tensors`.
  std::vector<std::pair<std::size_t, std::size_t>> shards;
  std::size_t begin = 0;
  std::int64_t bytes = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    auto const size = static_cast<std::int64_t>(tensors[i].data.size());
    if (i > begin && bytes + size > max_shard_bytes) {
      shards.emplace_back(begin, i);
      begin = i;
      bytes = 0;
    }
    bytes += size;
  }
  shards.emplace_back(begin, tensors.size());
  std::vector<std::string> files;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (std::size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    auto const [b, e] = shards[s];
    write_safetensors(dir / name, tensors.subspan(b, e - b), metadata);
    for (std::size_t i = b; i < e; ++i) {
      weight_map[tensors[i].name] = name;
    }
    files.emplace_back(name);
  }
  nlohmann::ordered_json index = {
      {"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::ofstream out(dir / "model.safetensors.index.json", std::ios::trunc);
  require(
      out.is_open(),
      ErrorKind::kIo,
      "cannot create '",
      (dir / "model.safetensors.index.json").string(),
      "'");
  out << index.dump(2) << "\n";
  require(out.good(), ErrorKind::kIo, "cannot write the safetensors index in '", dir.string(), "'");
  files.emplace_back("model.safetensors.index.json");
  return files;
}

}  // namespace spikequant::v0::io
