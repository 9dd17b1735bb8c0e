// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file DeviceBuffer<T>: a move-only owner of cudaMalloc'ed memory for tests, examples and
//! benchmarks. Library entry points never allocate; they take caller pointers.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/cuda/runtime/check.cuh"

#include <cstddef>
#include <cuda_runtime_api.h>
#include <span>
#include <type_traits>
#include <utility>

namespace spikequant::inline v0::cuda {

//! Owns `size()` elements of T in device global memory (uninitialised).
//! - Move-only; the destructor frees without throwing (errors there are ignored).
//! - cudaMalloc alignment is at least 256 bytes, so data() satisfies every vector width.
//! - upload/download are asynchronous on `stream`: keep host memory alive and synchronize
//!   before reading it (pageable host memory makes them effectively synchronous).
template <class T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "DeviceBuffer<T>: T must be trivially copyable");

public:
  DeviceBuffer() = default;
  //! Allocates `count` elements; count 0 holds no memory. Throws Error(kCuda).
  explicit DeviceBuffer(std::size_t count)
      : size_(count) {
    if (count > 0) {
      void* p = nullptr;
      SPIKEQUANT_CUDA_CHECK(cudaMalloc(&p, count * sizeof(T)));
      data_ = static_cast<T*>(p);
    }
  }
  //! Allocates and uploads `host` synchronously (default stream).
  explicit DeviceBuffer(std::span<T const> host)
      : DeviceBuffer(host.size()) {
    upload(host);
    SPIKEQUANT_CUDA_CHECK(cudaStreamSynchronize(nullptr));
  }
  DeviceBuffer(DeviceBuffer const&) = delete;
  DeviceBuffer& operator=(DeviceBuffer const&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr))
      , size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { reset(); }

  [[nodiscard]] T* data() noexcept { return data_; }
  [[nodiscard]] T const* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return size_ * sizeof(T); }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  //! Copies host -> device; `host.size()` must equal size(). Throws Error(kShape / kCuda).
  void upload(std::span<T const> host, cudaStream_t stream = nullptr) {
    require(
        host.size() == size_,
        ErrorKind::kShape,
        "DeviceBuffer::upload: host span has ",
        host.size(),
        " elements, buffer has ",
        size_);
    if (size_ > 0) {
      SPIKEQUANT_CUDA_CHECK(
          cudaMemcpyAsync(data_, host.data(), bytes(), cudaMemcpyHostToDevice, stream));
    }
  }
  //! Copies device -> host; `host.size()` must equal size(). Throws Error(kShape / kCuda).
  void download(std::span<T> host, cudaStream_t stream = nullptr) const {
    require(
        host.size() == size_,
        ErrorKind::kShape,
        "DeviceBuffer::download: host span has ",
        host.size(),
        " elements, buffer has ",
        size_);
    if (size_ > 0) {
      SPIKEQUANT_CUDA_CHECK(
          cudaMemcpyAsync(host.data(), data_, bytes(), cudaMemcpyDeviceToHost, stream));
    }
  }
  //! Sets every byte to `byte` (e.g. 0x5A to poison outputs before a test). Throws Error(kCuda).
  void fill_bytes(int byte, cudaStream_t stream = nullptr) {
    if (size_ > 0) {
      SPIKEQUANT_CUDA_CHECK(cudaMemsetAsync(data_, byte, bytes(), stream));
    }
  }
  //! Frees the memory now; the buffer becomes empty.
  void reset() noexcept {
    if (data_ != nullptr) {
      (void)cudaFree(data_);
    }
    data_ = nullptr;
    size_ = 0;
  }

private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace spikequant::v0::cuda
