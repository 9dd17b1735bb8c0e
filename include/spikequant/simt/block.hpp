// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file One emulated thread block: every CUDA thread a fiber, run by a deterministic scheduler
//! (thread 0, 1, ... each until it blocks) on one OS thread. A barrier completes when every
//! thread of the block waits at the same __syncthreads; a warp collective when all lanes of
//! its mask reached the same call site, its last lane then computing it for the whole warp.
//! Anything else (a barrier some threads never reach, lanes at different collectives, a copy
//! still in flight at exit) stops the block with a report instead of hanging.
#pragma once

#include "spikequant/simt/bank_stats.hpp"
#include "spikequant/simt/fiber.hpp"
#include "spikequant/simt/shared_memory.hpp"
#include "spikequant/simt/site.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>
#include <vector_types.h>

namespace spikequant::inline v0::simt {

//! Operands of one lane at a warp collective (the op knows their real type).
using LaneOperands = void*;

//! Computes a collective for the lanes in `mask`; ops[l] is lane l's operand block.
using WarpOpFn = void (*)(LaneOperands const* ops, unsigned mask);

//! One cp.async: `bytes` to shared `dst`, `src_bytes` of them read from `src`, the rest zero.
struct AsyncCopy {
  std::uint32_t dst = 0;
  void const* src = nullptr;
  std::uint32_t bytes = 0;
  std::uint32_t src_bytes = 0;
  Site site;
};

//! What a thread waits for.
enum class ThreadWait : std::uint8_t { kRunnable, kBarrier, kWarpOp, kDone };

struct ThreadState {
  uint3 thread_idx{};
  int tid = 0;
  int lane = 0;
  int warp = 0;
  ThreadWait wait = ThreadWait::kRunnable;
  bool started = false;
  Site site;  //!< where it waits
  std::vector<AsyncCopy> open_group;
  std::deque<std::vector<AsyncCopy>> groups;  //!< committed, oldest first
  Fiber fiber;
};

struct WarpState {
  unsigned arrived = 0;  //!< lanes waiting at the current collective
  unsigned mask = 0;
  unsigned lanes = 0;  //!< lanes that exist (a partial last warp has fewer than 32)
  Site site;
  char const* op = nullptr;
  WarpOpFn fn = nullptr;
  LaneOperands ops[32] = {};
};

class Block;
inline thread_local Block* tls_block = nullptr;
inline thread_local ThreadState* tls_thread = nullptr;

class Block {
public:
  uint3 block_idx{};
  dim3 block_dim{};
  dim3 grid_dim{};
  SharedMemory smem;
  std::uint32_t epoch = 1;  //!< barrier interval; 0 never matches "written this interval"

  //! Runs `body` in every thread of the block; returns false (with error()) on a report.
  bool run(uint3 block, dim3 grid, dim3 dim, std::size_t smem_bytes, std::function<void()> body) {
    block_idx = block;
    grid_dim = grid;
    block_dim = dim;
    body_ = std::move(body);
    smem.reset(smem_bytes);
    epoch = 1;
    error_.clear();
    failed_ = false;
    int const n = static_cast<int>(dim.x * dim.y * dim.z);
    while (static_cast<int>(threads_.size()) < n) {
      threads_.push_back(std::make_unique<ThreadState>());
    }
    warps_.assign(static_cast<std::size_t>((n + 31) / 32), WarpState{});
    accesses_.clear();
    for (int t = 0; t < n; ++t) {
      ThreadState& s = *threads_[static_cast<std::size_t>(t)];
      auto const u = static_cast<unsigned>(t);
      s.thread_idx = uint3{u % dim.x, (u / dim.x) % dim.y, u / (dim.x * dim.y)};
      s.tid = t;
      s.lane = t % 32;
      s.warp = t / 32;
      s.wait = ThreadWait::kRunnable;
      s.started = false;
      s.open_group.clear();
      s.groups.clear();
      s.fiber.reset(&Block::thread_main, this);
      warps_[static_cast<std::size_t>(s.warp)].lanes |= 1u << s.lane;
    }
    live_ = n;
    at_barrier_ = 0;
    schedule(n);
    flush_accesses();
    tls_block = nullptr;
    tls_thread = nullptr;
    return !failed_;
  }

  std::string const& error() const noexcept { return error_; }
  bool failed() const noexcept { return failed_; }
  ThreadState& current() noexcept { return *tls_thread; }

  //! Stops the block with `what` (the first report wins): unwinds the calling fiber (its
  //! destructors run); the scheduler then unwinds every other suspended thread the same way.
  [[noreturn]] void fail(std::string const& what, Site const& site) {
    record(what, site);
    throw Abort{};
  }

  //! Records the first report without unwinding (used where an exception cannot propagate).
  void record(std::string const& what, Site const& site) {
    if (!failed_) {
      failed_ = true;
      std::string who;
      if (tls_thread != nullptr) {
        who = " [block (" + std::to_string(block_idx.x) + "," + std::to_string(block_idx.y) + "," +
              std::to_string(block_idx.z) + ") thread " + std::to_string(tls_thread->tid) + "]";
      }
      error_ = where(site) + ": " + what + who;
    }
  }

  //! __syncthreads(): waits until every thread of the block arrives here.
  void barrier(Site const& site) {
    ThreadState& t = current();
    t.wait = ThreadWait::kBarrier;
    t.site = site;
    ++at_barrier_;
    if (at_barrier_ == live_ && live_ == static_cast<int>(block_size())) {
      for (int i = 0; i < live_; ++i) {
        ThreadState const& o = (*threads_[static_cast<std::size_t>(i)]);
        if (!same_site(o.site, site)) {
          fail(
              "barrier divergence: thread " + std::to_string(i) +
                  " waits at the __syncthreads of " + where(o.site) +
                  ", this thread at another one",
              site);
        }
      }
      flush_accesses();
      for (int i = 0; i < live_; ++i) {
        (*threads_[static_cast<std::size_t>(i)]).wait = ThreadWait::kRunnable;
      }
      at_barrier_ = 0;
      ++epoch;
      return;
    }
    suspend(t);
  }

  //! A warp collective: returns once `fn` ran for all lanes of `mask` at this site.
  void warp_op(Site const& site, char const* op, WarpOpFn fn, LaneOperands mine, unsigned mask) {
    ThreadState& t = current();
    WarpState& w = warps_[static_cast<std::size_t>(t.warp)];
    if ((mask & (1u << t.lane)) == 0) {
      fail(std::string(op) + ": the calling lane is not in its member mask", site);
    }
    if (w.arrived == 0) {
      w.site = site;
      w.op = op;
      w.fn = fn;
      w.mask = mask;
    } else if (!same_site(w.site, site) || w.fn != fn || w.mask != mask) {
      fail(
          "warp divergence: lane " + std::to_string(t.lane) + " reaches " + op + " while lanes " +
              lane_list(w.arrived) + " wait at " + w.op + " (" + where(w.site) + ")",
          site);
    }
    w.ops[t.lane] = mine;
    w.arrived |= 1u << t.lane;
    if (w.arrived == w.mask) {
      t.site = site;  // the op's reports name this site
      w.fn(w.ops, w.mask);
      for (int l = 0; l < 32; ++l) {
        if ((w.mask >> l) & 1u) {
          (*threads_[static_cast<std::size_t>(t.warp * 32 + l)]).wait = ThreadWait::kRunnable;
        }
      }
      w.arrived = 0;
      return;
    }
    t.wait = ThreadWait::kWarpOp;
    t.site = site;
    suspend(t);
  }

  //! Checks and records a lane's plain shared load/store for hazards and bank statistics.
  void shared_access(
      Site const& site, char const* op, std::uint32_t addr, std::uint32_t bytes, bool write) {
    ThreadState& t = current();
    std::string e =
        write ? smem.check_write(t.tid, addr, bytes, epoch) : smem.read(t.tid, addr, bytes, epoch);
    if (!e.empty()) {
      fail(e, site);
    }
    if (write) {
      smem.wrote(t.tid, addr, bytes, epoch);
    }
    // The k-th execution of a site by each lane of a warp is one warp-wide request.
    auto& count = instance_[{t.tid, site.file_name(), site.line(), site.column()}];
    auto& group = accesses_[{t.warp, site.file_name(), site.line(), site.column(), count++}];
    if (group.lanes.empty()) {
      group.site = site;
      group.op = op;
    }
    group.lanes.push_back(LaneAccess{addr, bytes});
    group.mask |= 1u << t.lane;
    if (group.mask == warps_[static_cast<std::size_t>(t.warp)].lanes) {
      record_group(group);
      accesses_.erase({t.warp, site.file_name(), site.line(), site.column(), count - 1});
    }
  }

  std::size_t block_size() const noexcept { return block_dim.x * block_dim.y * block_dim.z; }
  ThreadState& thread(int tid) noexcept { return *threads_[static_cast<std::size_t>(tid)]; }

private:
  using AccessKey = std::tuple<int, char const*, unsigned, unsigned, std::uint64_t>;
  using InstanceKey = std::tuple<int, char const*, unsigned, unsigned>;
  struct AccessGroup {
    Site site;
    char const* op = nullptr;
    std::vector<LaneAccess> lanes;
    unsigned mask = 0;
  };

  static void record_group(AccessGroup const& g) {
    std::uint32_t widest = 4;
    for (LaneAccess const& a : g.lanes) {
      widest = std::max(widest, a.bytes);
    }
    // 8-byte accesses are served a half warp, 16-byte ones a quarter warp per phase.
    bank_stats().record(
        g.site, g.op, g.lanes, static_cast<int>(std::min<std::uint32_t>(widest / 4, 4)));
  }

  void flush_accesses() {
    for (auto const& [k, g] : accesses_) {
      record_group(g);
    }
    accesses_.clear();
    instance_.clear();
  }

  static std::string lane_list(unsigned mask) {
    std::string s;
    for (int l = 0; l < 32; ++l) {
      if ((mask >> l) & 1u) {
        s += (s.empty() ? "" : ",") + std::to_string(l);
      }
    }
    return s.empty() ? "none" : s;
  }

  //! Thrown through a fiber's kernel frames when its block failed, so their destructors run.
  struct Abort {};

  //! Gives the OS thread back to the scheduler; unwinds if the block failed meanwhile.
  void suspend(ThreadState& t) {
    t.fiber.yield();
    if (failed_) {
      throw Abort{};
    }
  }

  static void thread_main(void* self) {
    auto* b = static_cast<Block*>(self);
    try {
      b->body_();
    } catch (Abort const&) {
      return;
    } catch (std::exception const& e) {
      b->record(std::string("exception in device code: ") + e.what(), Site::current());
      return;
    } catch (...) {
      b->record("unknown exception in device code", Site::current());
      return;
    }
    ThreadState const& t = b->current();
    bool pending = !t.open_group.empty();
    for (auto const& g : t.groups) {
      pending = pending || !g.empty();
    }
    if (pending) {
      Site const s =
          !t.open_group.empty() ? t.open_group.front().site : t.groups.back().front().site;
      b->record("thread exits with cp.async copies in flight (issued here, never waited for)", s);
    }
  }

  void schedule(int n) {
    for (;;) {
      bool ran = false;
      for (int i = 0; i < n && !failed_; ++i) {
        ThreadState& t = (*threads_[static_cast<std::size_t>(i)]);
        if (t.wait != ThreadWait::kRunnable) {
          continue;
        }
        tls_block = this;
        tls_thread = &t;
        t.started = true;
        t.fiber.resume();
        ran = true;
        if (t.fiber.finished() && !failed_) {
          t.wait = ThreadWait::kDone;
          --live_;
        }
      }
      if (failed_) {
        unwind(n);
        return;
      }
      if (live_ == 0) {
        return;
      }
      if (!ran) {
        diagnose_deadlock(n);
        unwind(n);
        return;
      }
    }
  }

  //! After a report: resumes every suspended thread once so it unwinds (threads that never
  //! started have nothing to clean up and are not run).
  void unwind(int n) {
    for (int i = 0; i < n; ++i) {
      ThreadState& t = *threads_[static_cast<std::size_t>(i)];
      if (t.started && !t.fiber.finished()) {
        tls_thread = &t;
        t.fiber.resume();
      }
    }
  }

  //! Nobody can run and not everyone finished: name the barrier or collective that is stuck.
  void diagnose_deadlock(int n) {
    failed_ = true;
    for (std::size_t w = 0; w < warps_.size(); ++w) {
      WarpState const& ws = warps_[w];
      if (ws.arrived != 0) {
        error_ = where(ws.site) + ": " + ws.op + " reached by lanes " + lane_list(ws.arrived) +
                 " of warp " + std::to_string(w) + " only (all lanes of mask " +
                 lane_list(ws.mask) + " must execute it together)";
        return;
      }
    }
    int exited = 0;
    Site at;
    for (int i = 0; i < n; ++i) {
      ThreadState const& t = (*threads_[static_cast<std::size_t>(i)]);
      exited += t.wait == ThreadWait::kDone ? 1 : 0;
      if (t.wait == ThreadWait::kBarrier) {
        at = t.site;
      }
    }
    error_ = where(at) + ": barrier divergence: " + std::to_string(at_barrier_) + " of " +
             std::to_string(n) + " threads wait at this __syncthreads, " + std::to_string(exited) +
             " exited without reaching it";
  }

  std::function<void()> body_;
  std::vector<std::unique_ptr<ThreadState>> threads_;
  std::vector<WarpState> warps_;
  std::map<AccessKey, AccessGroup> accesses_;
  std::map<InstanceKey, std::uint64_t> instance_;
  int live_ = 0;
  int at_barrier_ = 0;
  bool failed_ = false;
  std::string error_;
};

//! The block and thread whose fiber is running (only valid inside an emulated kernel).
inline Block& this_block() noexcept {
  return *tls_block;
}
inline ThreadState& this_thread() noexcept {
  return *tls_thread;
}

}  // namespace spikequant::v0::simt
