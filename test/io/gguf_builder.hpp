// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file A GGUF writer for tests, byte by byte and independent of the library's reader, that
//! can also write what a valid file must not contain (wrong counts, types, offsets).
#pragma once

#include "io_test_util.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace spikequant_test {

class GgufBuilder {
public:
  std::uint32_t magic = 0x46554747u;  // "GGUF"
  std::uint32_t version = 3;
  std::uint32_t alignment = 32;  // used to place data; add a general.alignment key to say so
  // When set, written instead of the real counts.
  std::int64_t n_kv_override = -1;
  std::int64_t n_tensors_override = -1;

  static void put_string(std::vector<std::byte>& b, std::string const& s) {
    append_pod(b, static_cast<std::uint64_t>(s.size()));
    auto const t = to_bytes(s);
    b.insert(b.end(), t.begin(), t.end());
  }

  //! A key with a raw value: u32 type then `value` bytes as given.
  GgufBuilder&
  kv_raw(std::string const& key, std::uint32_t type, std::vector<std::byte> const& value) {
    put_string(kv_, key);
    append_pod(kv_, type);
    kv_.insert(kv_.end(), value.begin(), value.end());
    ++n_kv_;
    return *this;
  }

  template <class T>
  GgufBuilder& kv(std::string const& key, std::uint32_t type, T v) {
    std::vector<std::byte> b;
    append_pod(b, v);
    return kv_raw(key, type, b);
  }

  GgufBuilder& kv_string(std::string const& key, std::string const& v) {
    std::vector<std::byte> b;
    put_string(b, v);
    return kv_raw(key, 8, b);
  }

  //! An array of `count` elements of `elem_type` whose bytes are `elems`.
  GgufBuilder& kv_array(
      std::string const& key,
      std::uint32_t elem_type,
      std::uint64_t count,
      std::vector<std::byte> const& elems) {
    std::vector<std::byte> b;
    append_pod(b, elem_type);
    append_pod(b, count);
    b.insert(b.end(), elems.begin(), elems.end());
    return kv_raw(key, 9, b);
  }

  //! A tensor info as given, without data.
  GgufBuilder& info(
      std::string const& name,
      std::vector<std::uint64_t> const& ne,
      std::uint32_t type,
      std::uint64_t offset,
      std::int64_t n_dims_override = -1) {
    put_string(infos_, name);
    append_pod(
        infos_,
        static_cast<std::uint32_t>(
            n_dims_override >= 0 ? n_dims_override : std::int64_t(ne.size())));
    for (auto d : ne) {
      append_pod(infos_, d);
    }
    append_pod(infos_, type);
    append_pod(infos_, offset);
    ++n_tensors_;
    return *this;
  }

  //! A tensor info plus its bytes, placed at the next aligned offset of the data section.
  GgufBuilder& tensor(
      std::string const& name,
      std::vector<std::uint64_t> const& ne,
      std::uint32_t type,
      std::vector<std::byte> const& payload) {
    while (data_.size() % alignment != 0) {
      data_.push_back(std::byte{0});
    }
    info(name, ne, type, data_.size());
    data_.insert(data_.end(), payload.begin(), payload.end());
    return *this;
  }

  [[nodiscard]] std::vector<std::byte> bytes() const {
    std::vector<std::byte> b;
    append_pod(b, magic);
    append_pod(b, version);
    append_pod(
        b, static_cast<std::uint64_t>(n_tensors_override >= 0 ? n_tensors_override : n_tensors_));
    append_pod(b, static_cast<std::uint64_t>(n_kv_override >= 0 ? n_kv_override : n_kv_));
    b.insert(b.end(), kv_.begin(), kv_.end());
    b.insert(b.end(), infos_.begin(), infos_.end());
    while (b.size() % alignment != 0) {
      b.push_back(std::byte{0});
    }
    b.insert(b.end(), data_.begin(), data_.end());
    return b;
  }

  //! Offset where the data section starts in bytes().
  [[nodiscard]] std::size_t data_start() const {
    std::size_t n = 24 + kv_.size() + infos_.size();
    return (n + alignment - 1) / alignment * alignment;
  }

private:
  std::vector<std::byte> kv_;
  std::vector<std::byte> infos_;
  std::vector<std::byte> data_;
  std::int64_t n_kv_ = 0;
  std::int64_t n_tensors_ = 0;
};

}  // namespace spikequant_test
