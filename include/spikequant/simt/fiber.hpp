// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file One emulated CUDA thread: a fiber on its own mmap'd stack (guard page below). On
//! x86-64 a 20-instruction stack switch (callee-saved registers, MXCSR and the x87 control
//! word, as the SysV ABI requires); elsewhere ucontext, whose swapcontext costs two system
//! calls per switch (it saves the signal mask). The AddressSanitizer fiber annotations let
//! ASan builds follow every stack change.
#pragma once

#include "spikequant/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#  define SPIKEQUANT_SIMT_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define SPIKEQUANT_SIMT_ASAN 1
#  endif
#endif
#if defined(SPIKEQUANT_SIMT_ASAN)
#  include <sanitizer/asan_interface.h>
#  include <sanitizer/common_interface_defs.h>
#endif

#if defined(__x86_64__) && defined(__linux__)
#  define SPIKEQUANT_SIMT_FAST_SWITCH 1
// spikequant_simt_switch(save, load): pushes the callee-saved state, stores the stack pointer
// in *save, continues on stack `load` (a state this function saved, or a fresh fiber frame).
// A COMDAT section, so every translation unit may carry it and the linker keeps one.
asm(R"(
  .pushsection .text.spikequant_simt_switch,"axG",@progbits,spikequant_simt_switch,comdat
  .globl spikequant_simt_switch
  .hidden spikequant_simt_switch
  .type spikequant_simt_switch,@function
spikequant_simt_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size spikequant_simt_switch, .-spikequant_simt_switch
  .popsection
)");
extern "C" void spikequant_simt_switch(void** save, void* load);
#else
#  include <ucontext.h>
#endif

namespace spikequant::inline v0::simt {

//! A fiber runs `entry(arg)` on its own stack; `resume()` switches to it from the scheduler
//! and returns when the fiber calls `yield()` or its entry returns. Not thread-safe: one
//! scheduler (one OS thread) owns a set of fibers.
class Fiber {
public:
  //! Stack per fiber: kernels keep their register arrays here (about 2 KiB for the largest
  //! GEMM tile); ASan's redzones multiply that, so 256 KiB leaves a wide margin.
  static constexpr std::size_t kStackBytes = 256 * 1024;
  static constexpr std::size_t kGuardBytes = 4096;

  Fiber() = default;
  Fiber(Fiber const&) = delete;
  Fiber& operator=(Fiber const&) = delete;
  ~Fiber() {
    if (mapping_ != nullptr) {
      ::munmap(mapping_, kStackBytes + kGuardBytes);
    }
  }

  //! Prepares the fiber to run `entry(arg)` from the start of its stack on the next resume().
  void reset(void (*entry)(void*), void* arg) {
    if (mapping_ == nullptr) {
      void* m = ::mmap(
          nullptr,
          kStackBytes + kGuardBytes,
          PROT_READ | PROT_WRITE,
          MAP_PRIVATE | MAP_ANONYMOUS,
          -1,
          0);
      require(m != MAP_FAILED, ErrorKind::kCuda, "simt: cannot map a fiber stack");
      mapping_ = m;
      // The lowest page faults on overflow instead of corrupting the next fiber's stack.
      ::mprotect(mapping_, kGuardBytes, PROT_NONE);
    }
    stack_ = static_cast<char*>(mapping_) + kGuardBytes;
#if defined(SPIKEQUANT_SIMT_ASAN)
    // An abandoned fiber (a failed launch) leaves its frames poisoned; start clean.
    __asan_unpoison_memory_region(stack_, kStackBytes);
#endif
    entry_ = entry;
    arg_ = arg;
    finished_ = false;
#if defined(SPIKEQUANT_SIMT_FAST_SWITCH)
    // A frame spikequant_simt_switch can "return" into: MXCSR + x87 control word, six zeroed
    // registers, then the address of start(); start() is entered with rsp % 16 == 8, as
    // after a call.
    auto* top = reinterpret_cast<std::uint64_t*>(stack_ + kStackBytes);
    std::uint64_t* x = top - 1;  // where rsp lands after the ret
    *x = 0;                      // start() never returns
    std::uint64_t* frame = x - 8;
    frame[0] = 0x1F80u | (std::uint64_t{0x037F} << 32);  // default MXCSR, default x87 CW
    for (int i = 1; i < 7; ++i) {
      frame[i] = 0;
    }
    frame[7] = reinterpret_cast<std::uint64_t>(&Fiber::start);
    sp_ = frame;
#else
    ::getcontext(&context_);
    context_.uc_stack.ss_sp = stack_;
    context_.uc_stack.ss_size = kStackBytes;
    context_.uc_link = nullptr;
    ::makecontext(&context_, &Fiber::start, 0);
#endif
  }

  //! Runs the fiber until it yields or finishes.
  void resume() {
    starting() = this;
    annotate_enter();
#if defined(SPIKEQUANT_SIMT_FAST_SWITCH)
    spikequant_simt_switch(&caller_sp_, sp_);
#else
    ::swapcontext(&caller_, &context_);
#endif
    annotate_back();
  }

  //! Called from inside the fiber: returns to the resume() that started this slice.
  void yield() {
    annotate_leave(false);
    switch_to_caller();
    annotate_return();
  }

  bool finished() const noexcept {
    return finished_;
  }

private:
  static Fiber*& starting() {
    static thread_local Fiber* f = nullptr;
    return f;
  }

  static void start() {
    Fiber* self = starting();
    self->annotate_return();
    self->entry_(self->arg_);
    self->finished_ = true;
    self->annotate_leave(true);
    self->switch_to_caller();  // never resumed again
    __builtin_trap();
  }

  void switch_to_caller() {
#if defined(SPIKEQUANT_SIMT_FAST_SWITCH)
    spikequant_simt_switch(&sp_, caller_sp_);
#else
    ::swapcontext(&context_, &caller_);
#endif
  }

  // ASan: the scheduler's stack and the fiber's stack are told apart on every switch.
  void annotate_enter() {
#if defined(SPIKEQUANT_SIMT_ASAN)
    __sanitizer_start_switch_fiber(&scheduler_fake_, stack_, kStackBytes);
#endif
  }
  void annotate_back() {
#if defined(SPIKEQUANT_SIMT_ASAN)
    __sanitizer_finish_switch_fiber(scheduler_fake_, nullptr, nullptr);
#endif
  }
  void annotate_leave(bool for_good) {
#if defined(SPIKEQUANT_SIMT_ASAN)
    __sanitizer_start_switch_fiber(
        for_good ? nullptr : &fiber_fake_, caller_stack_, caller_stack_bytes_);
#else
    (void)for_good;
#endif
  }
  void annotate_return() {
#if defined(SPIKEQUANT_SIMT_ASAN)
    __sanitizer_finish_switch_fiber(fiber_fake_, &caller_stack_, &caller_stack_bytes_);
#endif
  }

  void* mapping_ = nullptr;
  char* stack_ = nullptr;
  void (*entry_)(void*) = nullptr;
  void* arg_ = nullptr;
  bool finished_ = false;
#if defined(SPIKEQUANT_SIMT_FAST_SWITCH)
  void* sp_ = nullptr;
  void* caller_sp_ = nullptr;
#else
  ucontext_t context_{};
  ucontext_t caller_{};
#endif
#if defined(SPIKEQUANT_SIMT_ASAN)
  void* scheduler_fake_ = nullptr;
  void* fiber_fake_ = nullptr;
  void const* caller_stack_ = nullptr;
  std::size_t caller_stack_bytes_ = 0;
#endif
};

}  // namespace spikequant::v0::simt
