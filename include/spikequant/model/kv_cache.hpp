// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama::KVCache: per-layer float keys and values of the positions seen so far.
//! A plain copyable value, so a prefix's cache can be computed once and forked per window.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/model/config.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spikequant::inline v0::llama {

//! Keys and values of positions [0, length()) for every layer, room for capacity() positions.
//! - Layout per layer: (capacity, n_kv_heads * head_dim) row-major, position-major, so growing
//!   the capacity keeps the stored rows in place.
//! - Copying a cache forks it: both copies continue independently (QFeP: one prefix cache,
//!   copied for every evaluation window).
class KVCache {
public:
  KVCache() = default;
  //! An empty cache for `config` with room for `capacity` positions.
  KVCache(Config const& config, int capacity)
      : n_layers_(config.n_layers)
      , kv_dim_(config.n_kv_heads * config.head_dim) {
    require(
        config.n_layers > 0 && kv_dim_ > 0,
        ErrorKind::kInvalidArgument,
        "KVCache: config has n_layers ",
        config.n_layers,
        " and kv dim ",
        kv_dim_);
    k_.resize(static_cast<std::size_t>(n_layers_));
    v_.resize(static_cast<std::size_t>(n_layers_));
    reserve(capacity);
  }

  [[nodiscard]] int length() const noexcept { return length_; }
  [[nodiscard]] int capacity() const noexcept { return capacity_; }
  [[nodiscard]] int n_layers() const noexcept { return n_layers_; }
  [[nodiscard]] int kv_dim() const noexcept { return kv_dim_; }
  [[nodiscard]] bool empty() const noexcept { return length_ == 0; }

  //! Grows the capacity to at least `capacity` positions, keeping the stored positions.
  void reserve(int capacity) {
    require(
        capacity >= 0,
        ErrorKind::kInvalidArgument,
        "KVCache: capacity must be >= 0, got ",
        capacity);
    if (capacity <= capacity_) {
      return;
    }
    auto const n = static_cast<std::size_t>(capacity) * static_cast<std::size_t>(kv_dim_);
    for (int l = 0; l < n_layers_; ++l) {
      k_[static_cast<std::size_t>(l)].resize(n);
      v_[static_cast<std::size_t>(l)].resize(n);
    }
    capacity_ = capacity;
  }
  //! A copy of this cache with room for at least `capacity` positions.
  [[nodiscard]] KVCache fork(int capacity) const {
    KVCache c = *this;
    c.reserve(capacity);
    return c;
  }
  //! Forgets positions >= `length` (0 clears); capacity is kept.
  void truncate(int length) {
    require(
        length >= 0 && length <= length_,
        ErrorKind::kInvalidArgument,
        "KVCache::truncate: length ",
        length,
        " outside [0, ",
        length_,
        "]");
    length_ = length;
  }
  void clear() noexcept { length_ = 0; }

  //! Start of row `pos` of layer `layer` in a (capacity, kv_dim) store.
  [[nodiscard]] std::size_t offset(int pos) const noexcept {
    return static_cast<std::size_t>(pos) * static_cast<std::size_t>(kv_dim_);
  }
  //! Key / value row of `layer` at position `pos` (kv_dim floats: head-major, head_dim each).
  [[nodiscard]] float* key(int layer, int pos) noexcept {
    return k_[static_cast<std::size_t>(layer)].data() + offset(pos);
  }
  [[nodiscard]] float* value(int layer, int pos) noexcept {
    return v_[static_cast<std::size_t>(layer)].data() + offset(pos);
  }
  [[nodiscard]] float const* key(int layer, int pos) const noexcept {
    return k_[static_cast<std::size_t>(layer)].data() + offset(pos);
  }
  [[nodiscard]] float const* value(int layer, int pos) const noexcept {
    return v_[static_cast<std::size_t>(layer)].data() + offset(pos);
  }

  //! Marks `n` more positions as filled (the forward calls this after all layers ran).
  void advance(int n) {
    require(
        n >= 0 && length_ + n <= capacity_,
        ErrorKind::kInvalidArgument,
        "KVCache::advance: ",
        length_,
        " + ",
        n,
        " exceeds capacity ",
        capacity_);
    length_ += n;
  }

private:
  int n_layers_ = 0;
  int kv_dim_ = 0;
  int capacity_ = 0;
  int length_ = 0;
  std::vector<std::vector<float>> k_;  // n_layers x (capacity, kv_dim)
  std::vector<std::vector<float>> v_;  // n_layers x (capacity, kv_dim)
};

}  // namespace spikequant::v0::llama
