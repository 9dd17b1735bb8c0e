// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file One block's shared memory with a per-byte shadow: who wrote each byte and in which
//! barrier interval, who read it, and whether a cp.async into it is still in flight. The
//! checks turn the three shared-memory hazards of a kernel into reports naming thread, byte
//! and source line: reading before a copy landed (or never written), reading or overwriting
//! another thread's data with no __syncthreads between, and two writers in one interval.
#pragma once

#include "spikequant/simt/site.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace spikequant::inline v0::simt {

//! Shadow state of one shared-memory byte.
struct ByteShadow {
  std::uint32_t write_epoch = 0;
  std::uint32_t read_epoch = 0;
  std::int16_t writer = kNobody;     //!< thread of the last write; kNobody: never written
  std::int16_t reader = kNobody;     //!< thread that read it in read_epoch; kMany: several
  std::int16_t in_flight = kNobody;  //!< thread whose cp.async into it has not landed
  static constexpr std::int16_t kNobody = -1;
  static constexpr std::int16_t kMany = -2;
};

//! Bytes plus shadow; offsets are the 32-bit .shared addresses kernels compute.
class SharedMemory {
public:
  //! Poison value of every byte at launch: NaN as f32, -NaN as f16, -51 as int8.
  static constexpr unsigned char kPoison = 0xCD;

  void reset(std::size_t bytes) {
    if (bytes > capacity_) {
      data_.reset(new (std::align_val_t{128}) unsigned char[bytes]);
      capacity_ = bytes;
    }
    size_ = bytes;
    if (bytes > 0) {
      std::memset(data_.get(), kPoison, bytes);
    }
    shadow_.assign(bytes, ByteShadow{});
  }

  unsigned char* data() noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }

  //! Offset of `p` in this block's shared memory, or -1 when it points elsewhere.
  std::int64_t offset_of(void const* p) const noexcept {
    auto const* c = static_cast<unsigned char const*>(p);
    if (size_ == 0 || c < data_.get() || c >= data_.get() + size_) {
      return -1;
    }
    return c - data_.get();
  }

  //! Empty when [addr, addr + n) is inside; else the report.
  std::string check_range(std::uint64_t addr, std::size_t n) const {
    if (addr + n > size_) {
      return "shared access of " + std::to_string(n) + " bytes at offset " + std::to_string(addr) +
             " is outside the " + std::to_string(size_) + " bytes of dynamic shared memory";
    }
    return {};
  }

  //! A read by thread `tid` in barrier interval `epoch`; empty or the first hazard found.
  std::string read(int tid, std::uint32_t addr, std::size_t n, std::uint32_t epoch) {
    if (auto e = check_range(addr, n); !e.empty()) {
      return e;
    }
    for (std::size_t i = 0; i < n; ++i) {
      ByteShadow& s = shadow_[addr + i];
      std::uint32_t const byte = addr + static_cast<std::uint32_t>(i);
      if (s.in_flight != ByteShadow::kNobody) {
        return "thread " + std::to_string(tid) + " reads shared byte " + std::to_string(byte) +
               " while thread " + std::to_string(s.in_flight) +
               "'s cp.async into it has not landed (missing or too weak cp.async wait)";
      }
      if (s.writer == ByteShadow::kNobody) {
        return "thread " + std::to_string(tid) + " reads shared byte " + std::to_string(byte) +
               ", which nothing wrote before (uninitialized, or another thread writes it later "
               "with no "
               "__syncthreads between)";
      }
      if (s.writer != tid && s.write_epoch == epoch) {
        return "thread " + std::to_string(tid) + " reads shared byte " + std::to_string(byte) +
               " written by thread " + std::to_string(s.writer) +
               " with no __syncthreads between (read-after-write race)";
      }
      if (s.read_epoch != epoch || s.reader == ByteShadow::kNobody) {
        s.read_epoch = epoch;
        s.reader = static_cast<std::int16_t>(tid);
      } else if (s.reader != tid) {
        s.reader = ByteShadow::kMany;
      }
    }
    return {};
  }

  //! A write (or a cp.async issue) by thread `tid` in interval `epoch`; checks only.
  std::string check_write(int tid, std::uint32_t addr, std::size_t n, std::uint32_t epoch) const {
    if (auto e = check_range(addr, n); !e.empty()) {
      return e;
    }
    for (std::size_t i = 0; i < n; ++i) {
      ByteShadow const& s = shadow_[addr + i];
      std::uint32_t const byte = addr + static_cast<std::uint32_t>(i);
      if (s.in_flight != ByteShadow::kNobody) {
        return "thread " + std::to_string(tid) + " writes shared byte " + std::to_string(byte) +
               " while thread " + std::to_string(s.in_flight) +
               "'s cp.async into it is still in flight";
      }
      if (s.writer != ByteShadow::kNobody && s.writer != tid && s.write_epoch == epoch) {
        return "threads " + std::to_string(s.writer) + " and " + std::to_string(tid) +
               " both write shared byte " + std::to_string(byte) +
               " in one barrier interval (write-write race)";
      }
      bool const read_by_other =
          s.read_epoch == epoch &&
          (s.reader == ByteShadow::kMany || (s.reader != ByteShadow::kNobody && s.reader != tid));
      if (read_by_other) {
        return "thread " + std::to_string(tid) + " overwrites shared byte " + std::to_string(byte) +
               " that " +
               (s.reader == ByteShadow::kMany ? std::string("other threads")
                                              : "thread " + std::to_string(s.reader)) +
               " read in the same barrier interval (write-after-read race)";
      }
    }
    return {};
  }

  //! Records a completed write of [addr, addr + n) by `tid` (after check_write).
  void wrote(int tid, std::uint32_t addr, std::size_t n, std::uint32_t epoch) {
    for (std::size_t i = 0; i < n; ++i) {
      ByteShadow& s = shadow_[addr + i];
      s.writer = static_cast<std::int16_t>(tid);
      s.write_epoch = epoch;
      s.in_flight = ByteShadow::kNobody;
    }
  }

  //! Marks [addr, addr + n) as the target of `tid`'s cp.async that has not landed yet.
  void begin_copy(int tid, std::uint32_t addr, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      shadow_[addr + i].in_flight = static_cast<std::int16_t>(tid);
    }
  }

private:
  struct AlignedDelete {
    void operator()(unsigned char* p) const { ::operator delete[](p, std::align_val_t{128}); }
  };
  std::unique_ptr<unsigned char[], AlignedDelete> data_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::vector<ByteShadow> shadow_;
};

}  // namespace spikequant::v0::simt
