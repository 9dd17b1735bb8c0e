// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Host replay of the sm_80 GEMM kernels' dataflow, so their index math is checked in
//! every CI job although no GPU runs them.
//!
//! Each thread block of Sm80Int8GemmKernel / Sm80W8A16GemmKernel is replayed on the CPU:
//! - the kernels' own index functions (spikequant/cuda/kernel/sm80_gemm_index.hpp) decide
//!   every shared-memory layout, cp.async chunk, pipeline slot, ldmatrix row address,
//!   weight load address and accumulator -> output coordinate;
//! - cp.async, cp.async.commit_group / wait_group, __syncthreads, ldmatrix.x4, ld.shared and
//!   mma.sync (m16n8k32 s8, m16n8k16 f16) are emulated below from their PTX ISA description,
//!   written independently of the kernels;
//! - the result must equal a naive triple-loop GEMM exactly, for shapes whose M, N and K are
//!   not multiples of the tiles, and the replay reports shared-memory races: a cp.async that
//!   has not both completed (wait_group) and been published (__syncthreads) when it is read,
//!   a cp.async and a read of the same bytes between the same two barriers (WAR on the ring),
//!   reads of bytes no copy wrote, misaligned addresses and global reads outside the matrices.
//! cp.async copies land as late as wait_group allows, the adversarial schedule for readers.
//! What this cannot see: the kernels' statement order between the index calls (the replay
//! mirrors the main loop's structure), compiler or hardware behaviour, and the fp16/bf16
//! number formats (16-bit activations are replayed as int16 stand-ins: layout is the question).
#include "spikequant/cuda/kernel/sm80_gemm_index.hpp"
#include "spikequant/cuda/tuning/int8_gemm_policy.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <doctest/doctest.h>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace sqc = spikequant::cuda;
namespace sqd = spikequant::cuda::detail;

// ---------------------------------------------------------------------------------------------
// PTX semantics (PTX ISA: cp.async, cp.async.wait_group, bar.sync, ldmatrix, mma.sync).
// ---------------------------------------------------------------------------------------------

struct Violations {
  std::int64_t read_unwritten = 0;  // shared bytes read that no cp.async ever wrote
  std::int64_t read_in_flight = 0;  // read before its cp.async completed and a barrier followed
  std::int64_t same_interval = 0;   // cp.async and a read of a byte between the same barriers
  std::int64_t waw = 0;             // cp.async issued into bytes with a copy still in flight
  std::int64_t misaligned = 0;      // cp.async / ldmatrix row / ld.shared alignment rules
  std::int64_t out_of_bounds = 0;   // shared address outside the block's dynamic smem
  std::int64_t global_oob = 0;      // global read outside the matrix, or misaligned
  std::int64_t broken_pair = 0;     // registers (0, 1) / (2, 3) not adjacent in one output row
  [[nodiscard]] bool clean() const {
    return read_unwritten == 0 && read_in_flight == 0 && same_interval == 0 && waw == 0 &&
           misaligned == 0 && out_of_bounds == 0 && global_oob == 0 && broken_pair == 0;
  }
  [[nodiscard]] std::string str() const {
    std::ostringstream os;
    os << "read_unwritten " << read_unwritten << ", read_in_flight " << read_in_flight
       << ", same_interval " << same_interval << ", waw " << waw << ", misaligned " << misaligned
       << ", out_of_bounds " << out_of_bounds << ", global_oob " << global_oob << ", broken_pair "
       << broken_pair;
    return os.str();
  }
};

//! Dynamic shared memory of one block, the cp.async groups of its threads and a per-byte
//! hazard state.
class BlockSmem {
public:
  BlockSmem(int bytes, int threads, Violations& v)
      : bytes_(static_cast<std::size_t>(bytes), std::uint8_t{0xA5})
      , state_(static_cast<std::size_t>(bytes), kNever)
      , read_since_barrier_(static_cast<std::size_t>(bytes), 0)
      , issued_since_barrier_(static_cast<std::size_t>(bytes), 0)
      , committed_(static_cast<std::size_t>(threads))
      , open_(static_cast<std::size_t>(threads))
      , v_(v) {}

  //! cp.async.cg.shared.global [dst], [src], 16, src_size with src_size = pred ? 16 : 0:
  //! copies 16 bytes, or reads nothing and writes 16 zero bytes. dst and src 16-byte aligned.
  void cp_async_16(
      int tid, int dst, std::vector<std::uint8_t> const& global, std::int64_t src, bool pred) {
    Copy c{dst, {}};
    if (pred) {
      if (src < 0 || src % 16 != 0 || src + 16 > static_cast<std::int64_t>(global.size())) {
        ++v_.global_oob;
      } else {
        std::memcpy(c.data.data(), global.data() + src, 16);
      }
    }
    if (dst % 16 != 0) {
      ++v_.misaligned;
    }
    if (!in_bounds(dst, 16)) {
      return;
    }
    for (int b = dst; b < dst + 16; ++b) {
      auto const i = static_cast<std::size_t>(b);
      v_.same_interval += read_since_barrier_[i] != 0 ? 1 : 0;  // WAR without a barrier
      v_.waw += (state_[i] == kInFlight || state_[i] == kLanded) ? 1 : 0;
      state_[i] = kInFlight;
      issued_since_barrier_[i] = 1;
    }
    open_[static_cast<std::size_t>(tid)].push_back(c);
  }

  //! cp.async.commit_group: this thread's uncommitted copies become one group (may be empty).
  void commit(int tid) {
    auto& open = open_[static_cast<std::size_t>(tid)];
    committed_[static_cast<std::size_t>(tid)].push_back(std::move(open));
    open.clear();
  }

  //! cp.async.wait_group n: waits until at most the n most recent groups of this thread are
  //! pending; older groups are complete (their data is in shared memory).
  void wait_group(int tid, int n) {
    auto& groups = committed_[static_cast<std::size_t>(tid)];
    while (static_cast<int>(groups.size()) > n) {
      for (Copy const& c : groups.front()) {
        for (int b = 0; b < 16; ++b) {
          auto const i = static_cast<std::size_t>(c.dst + b);
          bytes_[i] = c.data[static_cast<std::size_t>(b)];
          state_[i] = kLanded;
        }
      }
      groups.pop_front();
    }
  }

  //! bar.sync (__syncthreads): completed copies become visible to every thread; reads of the
  //! previous interval are ordered before copies issued after it.
  void barrier() {
    for (std::size_t i = 0; i < state_.size(); ++i) {
      state_[i] = state_[i] == kLanded ? kVisible : state_[i];
      read_since_barrier_[i] = 0;
      issued_since_barrier_[i] = 0;
    }
  }

  //! Reads `n` bytes at `addr` (little endian) as one thread of a warp-wide load.
  std::uint32_t read(int addr, int n) {
    if (!in_bounds(addr, n)) {
      return 0;
    }
    std::uint32_t x = 0;
    for (int b = 0; b < n; ++b) {
      auto const i = static_cast<std::size_t>(addr + b);
      v_.read_unwritten += state_[i] == kNever ? 1 : 0;
      if (issued_since_barrier_[i] != 0) {
        ++v_.same_interval;  // the copy may land before or after this read
      } else if (state_[i] == kInFlight || state_[i] == kLanded) {
        ++v_.read_in_flight;
      }
      read_since_barrier_[i] = 1;
      x |= static_cast<std::uint32_t>(bytes_[i]) << (8 * b);
    }
    return x;
  }

  Violations& violations() { return v_; }

private:
  enum State : std::uint8_t { kNever, kInFlight, kLanded, kVisible };
  struct Copy {
    int dst;
    std::array<std::uint8_t, 16> data;
  };
  bool in_bounds(int addr, int n) {
    bool const ok = addr >= 0 && addr + n <= static_cast<int>(bytes_.size());
    v_.out_of_bounds += ok ? 0 : 1;
    return ok;
  }

  std::vector<std::uint8_t> bytes_;
  std::vector<State> state_;
  std::vector<char> read_since_barrier_;
  std::vector<char> issued_since_barrier_;
  std::vector<std::deque<std::vector<Copy>>> committed_;
  std::vector<std::vector<Copy>> open_;
  Violations& v_;
};

using Lanes32 = std::array<std::uint32_t, 32>;
using Frag4 = std::array<Lanes32, 4>;  // [register][lane]
using Frag2 = std::array<Lanes32, 2>;

//! ldmatrix.sync.aligned.m8n8.x4.shared.b16: lanes 8m .. 8m+7 give the addresses of rows 0..7
//! of matrix m (each row 8 x 16 bits = 16 bytes, 16-byte aligned); lane l receives in
//! register m the 32 bits at row l / 4, elements 2 (l % 4) and 2 (l % 4) + 1 of matrix m.
Frag4 ldmatrix_x4(BlockSmem& smem, std::array<int, 32> const& addr) {
  Frag4 r{};
  for (int m = 0; m < 4; ++m) {
    for (int row = 0; row < 8; ++row) {
      int const a = addr[static_cast<std::size_t>(8 * m + row)];
      smem.violations().misaligned += a % 16 != 0 ? 1 : 0;
      for (int q = 0; q < 4; ++q) {
        r[static_cast<std::size_t>(m)][static_cast<std::size_t>(4 * row + q)] =
            smem.read(a + 4 * q, 4);
      }
    }
  }
  return r;
}

std::int64_t s8(std::uint32_t reg, int byte) {
  return static_cast<std::int8_t>(static_cast<std::uint8_t>((reg >> (8 * byte)) & 0xFFu));
}
std::int64_t s16(std::uint32_t reg, int half) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>((reg >> (16 * half)) & 0xFFFFu));
}

//! d += a * b for mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32. PTX ISA fragments, with
//! g = lane >> 2, t = lane % 4 and elements packed low byte first, 4 per register:
//! - A a_i (i = 0..15): row g for i < 4 or 8 <= i < 12, else g + 8;
//!   col t * 4 + (i & 3) for i < 8, t * 4 + (i & 3) + 16 for i >= 8.
//! - B b_i (i = 0..7): row (k) t * 4 + (i & 3) for i < 4, t * 4 + (i & 3) + 16 for i >= 4;
//!   col (n) g.
//! - C / D c_i (i = 0..3): row g for i < 2, g + 8 otherwise; col t * 2 + (i & 1).
void mma_m16n8k32_s8(
    std::array<std::array<std::int64_t, 4>, 32>& d, Frag4 const& a, Frag2 const& b) {
  std::int64_t am[16][32] = {};
  std::int64_t bm[32][8] = {};
  for (int lane = 0; lane < 32; ++lane) {
    int const g = lane >> 2;
    int const t = lane % 4;
    auto const l = static_cast<std::size_t>(lane);
    for (int i = 0; i < 16; ++i) {
      int const row = (i < 4 || (i >= 8 && i < 12)) ? g : g + 8;
      int const col = t * 4 + (i & 3) + (i >= 8 ? 16 : 0);
      am[row][col] = s8(a[static_cast<std::size_t>(i / 4)][l], i % 4);
    }
    for (int i = 0; i < 8; ++i) {
      int const k = t * 4 + (i & 3) + (i >= 4 ? 16 : 0);
      bm[k][g] = s8(b[static_cast<std::size_t>(i / 4)][l], i % 4);
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    int const g = lane >> 2;
    int const t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      int const row = i < 2 ? g : g + 8;
      int const col = t * 2 + (i & 1);
      std::int64_t sum = 0;
      for (int k = 0; k < 32; ++k) {
        sum += am[row][k] * bm[k][col];
      }
      d[static_cast<std::size_t>(lane)][static_cast<std::size_t>(i)] += sum;
    }
  }
}

//! d += a * b for mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 (bf16 alike), with the
//! 16-bit elements read as int16 stand-ins. PTX ISA fragments (2 elements per register, low
//! half first):
//! - A a_i (i = 0..7): row g for i in {0, 1, 4, 5}, else g + 8;
//!   col t * 2 + (i & 1) for i < 4, t * 2 + (i & 1) + 8 for i >= 4.
//! - B b_i (i = 0..3): row (k) t * 2 + (i & 1) for i < 2, t * 2 + (i & 1) + 8 for i >= 2;
//!   col (n) g.
//! - C / D as for m16n8k32.
void mma_m16n8k16_16bit(
    std::array<std::array<std::int64_t, 4>, 32>& d, Frag4 const& a, Frag2 const& b) {
  std::int64_t am[16][16] = {};
  std::int64_t bm[16][8] = {};
  for (int lane = 0; lane < 32; ++lane) {
    int const g = lane >> 2;
    int const t = lane % 4;
    auto const l = static_cast<std::size_t>(lane);
    for (int i = 0; i < 8; ++i) {
      int const row = (i < 2 || i == 4 || i == 5) ? g : g + 8;
      int const col = t * 2 + (i & 1) + (i >= 4 ? 8 : 0);
      am[row][col] = s16(a[static_cast<std::size_t>(i / 2)][l], i % 2);
    }
    for (int i = 0; i < 4; ++i) {
      int const k = t * 2 + (i & 1) + (i >= 2 ? 8 : 0);
      bm[k][g] = s16(b[static_cast<std::size_t>(i / 2)][l], i % 2);
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    int const g = lane >> 2;
    int const t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      int const row = i < 2 ? g : g + 8;
      int const col = t * 2 + (i & 1);
      std::int64_t sum = 0;
      for (int k = 0; k < 16; ++k) {
        sum += am[row][k] * bm[k][col];
      }
      d[static_cast<std::size_t>(lane)][static_cast<std::size_t>(i)] += sum;
    }
  }
}

//! The W8A16 kernel's weight conversion (int8x2_to_half2): the low byte of the 16-bit load
//! becomes the low half (lower k), exactly; here into int16 stand-ins.
std::uint32_t int8x2_to_16bit_pair(std::uint32_t two_bytes) {
  auto const lo = static_cast<std::uint16_t>(static_cast<std::int16_t>(s8(two_bytes, 0)));
  auto const hi = static_cast<std::uint16_t>(static_cast<std::int16_t>(s8(two_bytes, 1)));
  return static_cast<std::uint32_t>(lo) | (static_cast<std::uint32_t>(hi) << 16);
}

// ---------------------------------------------------------------------------------------------
// The kernels' index functions, behind a policy so the test can prove it fails when one of
// them is wrong (see "the replay detects broken index math" below).
// ---------------------------------------------------------------------------------------------

struct KernelIndex {
  static constexpr int prefetch(int stages) { return sqd::pipeline_prefetch_distance(stages); }
  static constexpr int wait_pending(int stages) { return sqd::pipeline_wait_pending(stages); }
  static constexpr int slot(int tile, int stages) { return sqd::pipeline_slot(tile, stages); }
  template <sqc::GemmTile T>
  static constexpr int a_offset(int pitch, int warp, int i, int k_byte, int lane) {
    return sqd::ldmatrix_a_offset<T>(pitch, warp, i, k_byte, lane);
  }
  template <sqc::GemmTile T>
  static constexpr int b_pair_offset(int pitch, int warp, int j, int k_byte, int lane) {
    return sqd::ldmatrix_b_pair_offset<T>(pitch, warp, j, k_byte, lane);
  }
};

//! Waits for one group too few: tile kt may still be in flight when it is read.
struct WaitOneTooFew : KernelIndex {
  static constexpr int wait_pending(int stages) { return stages - 1; }
};
//! Reloads the slot being computed instead of the one computed last (WAR on the ring).
struct ReuseLiveSlot : KernelIndex {
  static constexpr int slot(int tile, int stages) {
    return tile >= stages - 1 ? (tile + 1) % stages : tile % stages;
  }
};
//! Swaps the k halves and n halves of the B ldmatrix.x4 (fragments in the wrong registers).
struct SwappedBMatrices : KernelIndex {
  template <sqc::GemmTile T>
  static constexpr int b_pair_offset(int pitch, int warp, int j, int k_byte, int lane) {
    int const swapped = (lane % 8) + 8 * (((lane / 8) % 2) * 2 + lane / 16);
    return sqd::ldmatrix_b_pair_offset<T>(pitch, warp, j, k_byte, swapped);
  }
};

// ---------------------------------------------------------------------------------------------
// One GEMM, block by block, in the kernels' main-loop order.
// ---------------------------------------------------------------------------------------------

struct Problem {
  int m, n, k;
};

struct Replay {
  std::vector<std::int64_t> c;  // (M, N) as stored by the epilogue
  std::vector<int> writes;      // stores per output element (must be 1)
  Violations v;
};

//! A (M, K) with element size a_bytes (1: int8 codes, 2: 16-bit activations as int16) and
//! B (N, K) int8, both row-major with 16 padding bytes per row holding poison: a padding byte
//! read into the result would change it.
struct Operands {
  int a_bytes;
  std::int64_t lda_bytes, ldb_bytes;
  std::vector<std::uint8_t> a, b;
  std::vector<std::int64_t> a_val, b_val;  // dense (M, K), (N, K)

  Operands(Problem p, int a_bytes_, std::uint32_t seed)
      : a_bytes(a_bytes_)
      , lda_bytes(static_cast<std::int64_t>(p.k) * a_bytes_ + 16)
      , ldb_bytes(static_cast<std::int64_t>(p.k) + 16)
      , a(static_cast<std::size_t>(p.m * lda_bytes), std::uint8_t{0x55})
      , b(static_cast<std::size_t>(p.n * ldb_bytes), std::uint8_t{0x55})
      , a_val(static_cast<std::size_t>(p.m) * static_cast<std::size_t>(p.k))
      , b_val(static_cast<std::size_t>(p.n) * static_cast<std::size_t>(p.k)) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> s8dist(-128, 127);
    std::uniform_int_distribution<int> s16dist(-1000, 1000);
    for (int r = 0; r < p.m; ++r) {
      for (int c = 0; c < p.k; ++c) {
        int const x = a_bytes == 1 ? s8dist(gen) : s16dist(gen);
        a_val
            [static_cast<std::size_t>(r) * static_cast<std::size_t>(p.k) +
             static_cast<std::size_t>(c)] = x;
        auto const bits = static_cast<std::uint16_t>(static_cast<std::int16_t>(x));
        std::size_t const at =
            static_cast<std::size_t>(r * lda_bytes + static_cast<std::int64_t>(c) * a_bytes);
        a[at] = static_cast<std::uint8_t>(bits & 0xFFu);
        if (a_bytes == 2) {
          a[at + 1] = static_cast<std::uint8_t>(bits >> 8);
        }
      }
    }
    for (int r = 0; r < p.n; ++r) {
      for (int c = 0; c < p.k; ++c) {
        int const x = s8dist(gen);
        b_val
            [static_cast<std::size_t>(r) * static_cast<std::size_t>(p.k) +
             static_cast<std::size_t>(c)] = x;
        b[static_cast<std::size_t>(r * ldb_bytes + c)] =
            static_cast<std::uint8_t>(static_cast<std::int8_t>(x));
      }
    }
  }
};

std::vector<std::int64_t> naive_gemm(Problem p, Operands const& o) {
  std::vector<std::int64_t> c(static_cast<std::size_t>(p.m) * static_cast<std::size_t>(p.n));
  for (int i = 0; i < p.m; ++i) {
    for (int j = 0; j < p.n; ++j) {
      std::int64_t s = 0;
      for (int kk = 0; kk < p.k; ++kk) {
        s += o.a_val
                 [static_cast<std::size_t>(i) * static_cast<std::size_t>(p.k) +
                  static_cast<std::size_t>(kk)] *
             o.b_val
                 [static_cast<std::size_t>(j) * static_cast<std::size_t>(p.k) +
                  static_cast<std::size_t>(kk)];
      }
      c[static_cast<std::size_t>(i) * static_cast<std::size_t>(p.n) + static_cast<std::size_t>(j)] =
          s;
    }
  }
  return c;
}

//! Replays Sm80Int8GemmKernel<Tile> (W8A16 = false) or Sm80W8A16GemmKernel<Tile, *>
//! (W8A16 = true) on every block of `p`.
template <sqc::GemmTile Tile, bool W8A16, class Index = KernelIndex>
Replay replay(Problem p, Operands const& o) {
  constexpr int kABytes = W8A16 ? 2 : 1;
  constexpr int kThreads = Tile.warps_m * Tile.warps_n * 32;
  constexpr int kWarps = Tile.warps_m * Tile.warps_n;
  constexpr int kMmaM = Tile.block_m / Tile.warps_m / 16;
  constexpr int kMmaN = Tile.block_n / Tile.warps_n / 8;
  constexpr int kMmaK = W8A16 ? 16 : 32;
  constexpr sqd::Sm80GemmSmemLayout kL = sqd::sm80_gemm_smem_layout(Tile, kABytes);
  constexpr int kChunksA =
      sqd::kTileChunksPerThread<Tile.block_m, Tile.block_k * kABytes, kThreads>;
  constexpr int kChunksB = sqd::kTileChunksPerThread<Tile.block_n, Tile.block_k, kThreads>;
  using Acc = std::array<std::array<std::int64_t, 4>, 32>;  // [lane][register]

  Replay out;
  out.c.assign(static_cast<std::size_t>(p.m) * static_cast<std::size_t>(p.n), 0);
  out.writes.assign(out.c.size(), 0);
  int const k_tiles = (p.k + Tile.block_k - 1) / Tile.block_k;
  int const prefetch = Index::prefetch(Tile.stages);

  for (int bm = 0; bm * Tile.block_m < p.m; ++bm) {
    for (int bn = 0; bn * Tile.block_n < p.n; ++bn) {
      BlockSmem smem(kL.smem_bytes, kThreads, out.v);
      std::vector<Acc> acc(static_cast<std::size_t>(kWarps * kMmaM * kMmaN), Acc{});
      auto acc_at = [&](int warp, int i, int j) -> Acc& {
        return acc[static_cast<std::size_t>((warp * kMmaM + i) * kMmaN + j)];
      };
      auto slot_base = [&](int tile) { return Index::slot(tile, Tile.stages) * kL.stage_bytes; };

      // The kernels' load_stage: the A tile, then the B tile after it in the same slot.
      auto load_stage = [&](int tile) {
        int const base = slot_base(tile);
        std::int64_t const k0 = static_cast<std::int64_t>(tile) * Tile.block_k;
        for (int tid = 0; tid < kThreads; ++tid) {
          for (int i = 0; i < kChunksA; ++i) {
            sqd::TileChunk const c =
                sqd::tile_chunk<Tile.block_m, Tile.block_k * kABytes, kThreads>(
                    i,
                    tid,
                    o.lda_bytes,
                    bm * Tile.block_m,
                    p.m,
                    k0 * kABytes,
                    static_cast<std::int64_t>(p.k) * kABytes);
            smem.cp_async_16(tid, base + c.smem_offset, o.a, c.src_offset, c.pred);
          }
          for (int i = 0; i < kChunksB; ++i) {
            sqd::TileChunk const c = sqd::tile_chunk<Tile.block_n, Tile.block_k, kThreads>(
                i, tid, o.ldb_bytes, bn * Tile.block_n, p.n, k0, p.k);
            smem.cp_async_16(
                tid, base + kL.stage_bytes_a + c.smem_offset, o.b, c.src_offset, c.pred);
          }
        }
      };
      auto commit_all = [&] {
        for (int tid = 0; tid < kThreads; ++tid) {
          smem.commit(tid);
        }
      };
      auto wait_all = [&](int pending) {
        for (int tid = 0; tid < kThreads; ++tid) {
          smem.wait_group(tid, pending);
        }
      };

      // One k tile on every warp (the kernels' inner ks / i / j loops).
      auto compute = [&](int tile) {
        int const base = slot_base(tile);
        for (int warp = 0; warp < kWarps; ++warp) {
          for (int ks = 0; ks < Tile.block_k / kMmaK; ++ks) {
            std::array<Frag4, kMmaM> a_frag{};
            std::array<Frag2, kMmaN> b_frag{};
            for (int i = 0; i < kMmaM; ++i) {
              std::array<int, 32> addr{};
              for (int lane = 0; lane < 32; ++lane) {
                addr[static_cast<std::size_t>(lane)] =
                    base + Index::template a_offset<Tile>(kL.pitch_a, warp, i, ks * 32, lane);
              }
              a_frag[static_cast<std::size_t>(i)] = ldmatrix_x4(smem, addr);
            }
            if constexpr (!W8A16) {
              for (int j = 0; j < kMmaN; j += 2) {
                std::array<int, 32> addr{};
                for (int lane = 0; lane < 32; ++lane) {
                  addr[static_cast<std::size_t>(lane)] =
                      base + kL.stage_bytes_a +
                      Index::template b_pair_offset<Tile>(kL.pitch_b, warp, j, ks * 32, lane);
                }
                Frag4 const r = ldmatrix_x4(smem, addr);
                b_frag[static_cast<std::size_t>(j)] = {r[0], r[1]};
                b_frag[static_cast<std::size_t>(j + 1)] = {r[2], r[3]};
              }
            } else {
              for (int j = 0; j < kMmaN; ++j) {
                for (int lane = 0; lane < 32; ++lane) {
                  int const addr = base + kL.stage_bytes_a +
                                   sqd::w8_b_offset<Tile>(kL.pitch_b, warp, j, ks * 16, lane);
                  // ld.shared.u16: 2-byte aligned.
                  smem.violations().misaligned += addr % 2 != 0 ? 1 : 0;
                  auto const l = static_cast<std::size_t>(lane);
                  b_frag[static_cast<std::size_t>(j)][0][l] =
                      int8x2_to_16bit_pair(smem.read(addr, 2));
                  b_frag[static_cast<std::size_t>(j)][1][l] =
                      int8x2_to_16bit_pair(smem.read(addr + sqd::kW8B1Offset, 2));
                }
              }
            }
            for (int i = 0; i < kMmaM; ++i) {
              for (int j = 0; j < kMmaN; ++j) {
                if constexpr (W8A16) {
                  mma_m16n8k16_16bit(
                      acc_at(warp, i, j),
                      a_frag[static_cast<std::size_t>(i)],
                      b_frag[static_cast<std::size_t>(j)]);
                } else {
                  mma_m16n8k32_s8(
                      acc_at(warp, i, j),
                      a_frag[static_cast<std::size_t>(i)],
                      b_frag[static_cast<std::size_t>(j)]);
                }
              }
            }
          }
        }
      };

      // The kernels' main loop.
      for (int s = 0; s < prefetch; ++s) {
        if (s < k_tiles) {
          load_stage(s);
        }
        commit_all();
      }
      for (int kt = 0; kt < k_tiles; ++kt) {
        wait_all(Index::wait_pending(Tile.stages));
        smem.barrier();
        int const next = kt + prefetch;
        if (next < k_tiles) {
          load_stage(next);
        }
        commit_all();
        compute(kt);
      }
      wait_all(0);

      // The kernels' epilogue: registers (0, 1) and (2, 3) are stored as column pairs.
      for (int warp = 0; warp < kWarps; ++warp) {
        for (int lane = 0; lane < 32; ++lane) {
          int const row0 = sqd::acc_row0<Tile>(bm, warp, lane);
          int const col0 = sqd::acc_col0<Tile>(bn, warp, lane);
          for (int i = 0; i < kMmaM; ++i) {
            for (int j = 0; j < kMmaN; ++j) {
              for (int r = 0; r < 4; ++r) {
                int const row = row0 + sqd::acc_row_offset(i, r);
                int const col = col0 + sqd::acc_col_offset(j, r);
                int const pair_row = row0 + sqd::acc_row_offset(i, r & 2);
                int const pair_col = col0 + sqd::acc_col_offset(j, r & 2) + (r & 1);
                out.v.broken_pair += (row != pair_row || col != pair_col) ? 1 : 0;
                if (row < p.m && col < p.n) {
                  auto const at = static_cast<std::size_t>(row) * static_cast<std::size_t>(p.n) +
                                  static_cast<std::size_t>(col);
                  out.c[at] = acc_at(
                      warp, i, j)[static_cast<std::size_t>(lane)][static_cast<std::size_t>(r)];
                  ++out.writes[at];
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

struct Outcome {
  std::int64_t mismatches = 0;
  std::int64_t bad_writes = 0;  // elements stored zero times or more than once
  Violations v;
};

template <sqc::GemmTile Tile, bool W8A16, class Index = KernelIndex>
Outcome run_case(Problem p, std::uint32_t seed) {
  Operands const o(p, W8A16 ? 2 : 1, seed);
  Replay const r = replay<Tile, W8A16, Index>(p, o);
  std::vector<std::int64_t> const ref = naive_gemm(p, o);
  Outcome out;
  out.v = r.v;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    out.mismatches += r.c[i] != ref[i] ? 1 : 0;
    out.bad_writes += r.writes[i] != 1 ? 1 : 0;
  }
  return out;
}

// M, N not multiples of any tile; K a multiple of 16 (the kernels' requirement) but not of
// block_k; K below one tile, below block_k * stages, and spanning several trips round the ring.
Problem const kShapes[] = {
    {1, 8, 16},
    {37, 65, 96},
    {129, 33, 272},
    {70, 200, 592},
    {128, 128, 256},
};

template <sqc::GemmTile Tile, bool W8A16>
void check_all_shapes() {
  for (Problem const p : kShapes) {
    CAPTURE(p.m);
    CAPTURE(p.n);
    CAPTURE(p.k);
    Outcome const o = run_case<Tile, W8A16>(p, static_cast<std::uint32_t>(p.m * 7 + p.k));
    CHECK_MESSAGE(o.v.clean(), o.v.str());
    CHECK(o.mismatches == 0);
    CHECK(o.bad_writes == 0);
  }
}

}  // namespace

TEST_CASE("Sm80_Int8Gemm dataflow replay equals a naive GEMM (large tile)") {
  check_all_shapes<sqc::kSm80Int8TileLarge, false>();
}

TEST_CASE("Sm80_Int8Gemm dataflow replay equals a naive GEMM (small tile)") {
  check_all_shapes<sqc::kSm80Int8TileSmall, false>();
}

TEST_CASE("Sm80_W8A16Gemm dataflow replay equals a naive GEMM (large tile)") {
  check_all_shapes<sqc::kSm80W8A16TileLarge, true>();
}

TEST_CASE("Sm80_W8A16Gemm dataflow replay equals a naive GEMM (small tile)") {
  check_all_shapes<sqc::kSm80W8A16TileSmall, true>();
}

TEST_CASE("Sm80 GEMM shared-memory layout: 16-byte rows, odd chunk pitch, slots tile the ring") {
  struct Case {
    sqc::GemmTile tile;
    int a_bytes;
  };
  for (Case const c :
       {Case{sqc::kSm80Int8TileLarge, 1},
        Case{sqc::kSm80Int8TileSmall, 1},
        Case{sqc::kSm80W8A16TileLarge, 2},
        Case{sqc::kSm80W8A16TileSmall, 2}}) {
    sqc::GemmTile const tile = c.tile;
    int const a_bytes = c.a_bytes;
    CAPTURE(tile);
    sqd::Sm80GemmSmemLayout const l = sqd::sm80_gemm_smem_layout(tile, a_bytes);
    CHECK(l.pitch_a == tile.block_k * a_bytes + 16);
    CHECK(l.pitch_b == tile.block_k + 16);
    CHECK((l.pitch_a / 16) % 2 == 1);  // conflict-free ldmatrix phases
    CHECK(l.pitch_a % 16 == 0);
    CHECK(l.pitch_b % 16 == 0);
    CHECK(l.stage_bytes_a % 16 == 0);
    CHECK(l.stage_bytes == l.stage_bytes_a + l.stage_bytes_b);
    CHECK(l.smem_bytes == tile.stages * l.stage_bytes);
    CHECK(l.smem_bytes <= 227 * 1024);  // sm_90 opt-in maximum per block
  }
}

TEST_CASE("Sm80 GEMM dataflow replay detects broken index math") {
  Problem const p{70, 72, 592};
  // Every pipeline slot is re-read while tile kt may still be in flight.
  Outcome const early = run_case<sqc::kSm80Int8TileLarge, false, WaitOneTooFew>(p, 3);
  CHECK(early.v.read_in_flight > 0);
  // The slot being computed is overwritten by the next tile's copies.
  Outcome const war = run_case<sqc::kSm80Int8TileLarge, false, ReuseLiveSlot>(p, 3);
  CHECK(war.v.same_interval > 0);
  // B fragments in the wrong registers give a wrong product.
  Outcome const swapped = run_case<sqc::kSm80Int8TileSmall, false, SwappedBMatrices>(p, 3);
  CHECK(swapped.v.clean());
  CHECK(swapped.mismatches > 0);
}
