// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file cuBLASLt INT8 path: c (M, N) int32 = a (M, K) int8 * b (N, K)^T int8 through
//! cublasLtMatmul (IMMA, CUBLAS_COMPUTE_32I), followed by run_dequant_epilogue for float output.
//!
//! Layout mapping. cuBLASLt is column-major. Our row-major c (M, N) with ldc is, read
//! column-major, c^T: an (N, M) matrix with leading dimension ldc. And c^T = b * a^T:
//! - cuBLASLt "A" := our b buffer, described as stored: column-major (K, N), ld = ldb
//!   (row n of b is column n), with transa = T so op(A) = (N, K);
//! - cuBLASLt "B" := our a buffer, column-major (K, M), ld = lda, transb = N;
//! - cuBLASLt "C" = "D" := our c buffer, column-major (N, M), ld = ldc;
//! - cuBLASLt sizes m' = N, n' = M, k' = K.
//! This is the "TN" form, the only one cuBLASLt's IMMA kernels take with the regular (column)
//! ordering; it needs no COL32 / COL4_4R2_8C re-layout (which Hopper does not offer anyway).
//! IMMA requirements for that form (cuBLAS docs, cublasLtMatmul): pointers 4-byte aligned
//! (16 preferred), lda, ldb, ldc multiples of 4, m' (our N) and k' (our K) multiples of 4.
//! This wrapper requires 16-byte aligned pointers and tells the heuristic so.
#pragma once

#include "spikequant/core/error.hpp"
#include "spikequant/core/status.hpp"
#include "spikequant/cuda/device/gemm_arguments.hpp"
#include "spikequant/cuda/runtime/check.cuh"

#include <cstddef>
#include <cstdint>
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <string_view>
#include <utility>

namespace spikequant::inline v0::cuda {

//! A planned cuBLASLt INT8 GEMM for one problem shape: descriptors and the heuristic's
//! algorithm are chosen once at construction (host work only), run() launches on a stream.
//! - The caller owns the cublasLtHandle_t and the workspace; nothing on the device is
//!   allocated here. Query workspace_size() after construction.
//! - Move-only; not thread-safe for concurrent run() calls on different streams only in the
//!   sense that cuBLASLt's own rules apply (descriptors are read-only during run).
class CublasLtInt8Gemm {
public:
  //! Upper bound this library passes by default as the workspace preference (32 MiB, the
  //! size the cuBLAS documentation recommends for Hopper).
  static constexpr std::size_t kRecommendedWorkspaceBytes = std::size_t{32} << 20;

  //! Whether the problem satisfies the IMMA rules (see file comment); the reason when not.
  static Status can_implement(CublasLtInt8Problem const& p) noexcept {
    return status_of([&] { can_implement_cublaslt_int8(p); });
  }
  //! can_implement, as a spikequant::Error.
  static void check(CublasLtInt8Problem const& p) { can_implement_cublaslt_int8(p); }

  //! Plans the GEMM. Throws Error (shape/alignment from check; kUnsupported when the
  //! heuristic returns no algorithm; kCuda on cuBLASLt errors).
  //! @param handle         caller's cuBLASLt handle, must outlive this object
  //! @param problem        sizes and leading dimensions (elements)
  //! @param max_workspace  most workspace bytes the caller will pass to run()
  CublasLtInt8Gemm(
      cublasLtHandle_t handle,
      CublasLtInt8Problem const& problem,
      std::size_t max_workspace = kRecommendedWorkspaceBytes)
      : handle_(handle)
      , problem_(problem) {
    check(problem);
    require(handle != nullptr, ErrorKind::kInvalidArgument, "cublasLt int8 gemm: null handle");
    try {
      SPIKEQUANT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32I, CUDA_R_32I));
      cublasOperation_t const op_t = CUBLAS_OP_T;
      cublasOperation_t const op_n = CUBLAS_OP_N;
      SPIKEQUANT_CUBLAS_CHECK(
          cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &op_t, sizeof(op_t)));
      SPIKEQUANT_CUBLAS_CHECK(
          cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &op_n, sizeof(op_n)));
      auto const u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
      // cuBLASLt A = our b: column-major (K, N), ld = ldb.
      SPIKEQUANT_CUBLAS_CHECK(
          cublasLtMatrixLayoutCreate(&a_desc_, CUDA_R_8I, u(problem.k), u(problem.n), problem.ldb));
      // cuBLASLt B = our a: column-major (K, M), ld = lda.
      SPIKEQUANT_CUBLAS_CHECK(
          cublasLtMatrixLayoutCreate(&b_desc_, CUDA_R_8I, u(problem.k), u(problem.m), problem.lda));
      // cuBLASLt C = D = our c: column-major (N, M), ld = ldc.
      SPIKEQUANT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(
          &c_desc_, CUDA_R_32I, u(problem.n), u(problem.m), problem.ldc));

      SPIKEQUANT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref_));
      SPIKEQUANT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
          pref_, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_workspace, sizeof(max_workspace)));
      std::uint32_t const align = kPointerAlignment;
      for (auto attr :
           {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
            CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
            CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
            CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES}) {
        SPIKEQUANT_CUBLAS_CHECK(
            cublasLtMatmulPreferenceSetAttribute(pref_, attr, &align, sizeof(align)));
      }
      int returned = 0;
      SPIKEQUANT_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(
          handle_, desc_, a_desc_, b_desc_, c_desc_, c_desc_, pref_, 1, &heuristic_, &returned));
      require(
          returned > 0,
          ErrorKind::kUnsupported,
          "cublasLt int8 gemm: no algorithm for M = ",
          problem.m,
          ", N = ",
          problem.n,
          ", K = ",
          problem.k,
          " within ",
          max_workspace,
          " workspace bytes");
    } catch (...) {
      destroy();
      throw;
    }
  }

  CublasLtInt8Gemm(CublasLtInt8Gemm const&) = delete;
  CublasLtInt8Gemm& operator=(CublasLtInt8Gemm const&) = delete;
  CublasLtInt8Gemm(CublasLtInt8Gemm&& o) noexcept
      : handle_(o.handle_)
      , problem_(o.problem_)
      , desc_(std::exchange(o.desc_, nullptr))
      , a_desc_(std::exchange(o.a_desc_, nullptr))
      , b_desc_(std::exchange(o.b_desc_, nullptr))
      , c_desc_(std::exchange(o.c_desc_, nullptr))
      , pref_(std::exchange(o.pref_, nullptr))
      , heuristic_(o.heuristic_) {}
  CublasLtInt8Gemm& operator=(CublasLtInt8Gemm&&) = delete;
  ~CublasLtInt8Gemm() { destroy(); }

  //! Workspace bytes the chosen algorithm needs (<= max_workspace given at construction).
  [[nodiscard]] std::size_t workspace_size() const noexcept { return heuristic_.workspaceSize; }

  [[nodiscard]] CublasLtInt8Problem const& problem() const noexcept { return problem_; }

  //! c (M, N) int32 = a (M, K) * b (N, K)^T on `stream`. Exact (int32 accumulation).
  //! - Throws Error(kAlignment) unless a, b, c are 16-byte aligned; kInvalidArgument for null
  //!   pointers or a workspace smaller than workspace_size(); kCuda on cuBLASLt failure.
  void
  run(std::int8_t const* a,
      std::int8_t const* b,
      std::int32_t* c,
      void* workspace,
      std::size_t workspace_bytes,
      cudaStream_t stream) const {
    constexpr std::string_view fn = "cublasLt int8 gemm";
    require_pointer(a, kPointerAlignment, detail::gemm_arg(fn, "a (activations)"));
    require_pointer(b, kPointerAlignment, detail::gemm_arg(fn, "b (weights)"));
    require_pointer(c, kPointerAlignment, detail::gemm_arg(fn, "c (int32 output)"));
    require(
        workspace_bytes >= workspace_size() && (workspace_size() == 0 || workspace != nullptr),
        ErrorKind::kInvalidArgument,
        fn,
        ": workspace of ",
        workspace_bytes,
        " bytes, the algorithm needs ",
        workspace_size());
    std::int32_t const alpha = 1;
    std::int32_t const beta = 0;
    SPIKEQUANT_CUBLAS_CHECK(cublasLtMatmul(
        handle_,
        desc_,
        &alpha,
        b,  // cuBLASLt A: (K, N) column-major, op T
        a_desc_,
        a,  // cuBLASLt B: (K, M) column-major, op N
        b_desc_,
        &beta,
        c,
        c_desc_,
        c,
        c_desc_,
        &heuristic_.algo,
        workspace,
        workspace_bytes,
        stream));
  }

private:
  static constexpr std::uint32_t kPointerAlignment = 16;

  void destroy() noexcept {
    if (pref_ != nullptr) {
      (void)cublasLtMatmulPreferenceDestroy(pref_);
    }
    if (c_desc_ != nullptr) {
      (void)cublasLtMatrixLayoutDestroy(c_desc_);
    }
    if (b_desc_ != nullptr) {
      (void)cublasLtMatrixLayoutDestroy(b_desc_);
    }
    if (a_desc_ != nullptr) {
      (void)cublasLtMatrixLayoutDestroy(a_desc_);
    }
    if (desc_ != nullptr) {
      (void)cublasLtMatmulDescDestroy(desc_);
    }
    pref_ = nullptr;
    c_desc_ = b_desc_ = a_desc_ = nullptr;
    desc_ = nullptr;
  }

  cublasLtHandle_t handle_ = nullptr;
  CublasLtInt8Problem problem_{};
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t a_desc_ = nullptr;
  cublasLtMatrixLayout_t b_desc_ = nullptr;
  cublasLtMatrixLayout_t c_desc_ = nullptr;
  cublasLtMatmulPreference_t pref_ = nullptr;
  cublasLtMatmulHeuristicResult_t heuristic_{};
};

}  // namespace spikequant::v0::cuda
