// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The translation unit scripts/sass-check.py compiles for sm_80 and sm_90a: it takes the
//! address of every public CUDA entry point, so the fat binary holds exactly the kernels the
//! library launches (a new launch shows up as a kernel without a budget), and main() prints
//! what each kernel claims on the host side (block size, dynamic shared memory) as JSON, for
//! the checker to hold against test/static/sass_budgets.json. Needs no GPU: no CUDA call runs.
#include "spikequant/cuda/device/gemm.cuh"
#include "spikequant/cuda/device/glu.cuh"
#include "spikequant/cuda/device/quantize.cuh"
#include "spikequant/cuda/device/rmsnorm.cuh"
#include "spikequant/cuda/device/w8a16_gemm.cuh"
#include "spikequant/cuda/kernel/dequant_epilogue.cuh"

#include <cstddef>
#include <cstdio>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace {

namespace sqc = spikequant::cuda;
namespace act = spikequant::activation;

// Instantiates every kernel the entry points can launch; volatile so nothing is dropped.
template <class... F>
void keep(F... f) {
  ((void)*static_cast<F volatile*>(&f), ...);
}

void instantiate_all() {
  keep(
      &sqc::Int8Gemm::run_with_tile,
      &sqc::W8A16Gemm::run_with_tile,
      &sqc::run_dequant_epilogue,
      &sqc::QuantizeRows<float>::run,
      &sqc::QuantizeRows<__half>::run,
      &sqc::QuantizeRows<__nv_bfloat16>::run,
      &sqc::GluQuantize<float, act::Silu>::run,
      &sqc::GluQuantize<__half, act::Silu>::run,
      &sqc::GluQuantize<__nv_bfloat16, act::Silu>::run,
      &sqc::GluQuantize<float, act::GeluTanh>::run,
      &sqc::GluQuantize<__half, act::GeluTanh>::run,
      &sqc::GluQuantize<__nv_bfloat16, act::GeluTanh>::run,
      &sqc::RmsNormQuantize<float>::run,
      &sqc::RmsNormQuantize<__half>::run,
      &sqc::RmsNormQuantize<__nv_bfloat16>::run);
}

template <class K>
void claim(char const* name, std::size_t dynamic_smem, bool last = false) {
  std::printf(
      "  \"%s\": {\"threads\": %d, \"dynamic_smem\": %zu}%s\n",
      name,
      static_cast<int>(K::kThreads),
      dynamic_smem,
      last ? "" : ",");
}

}  // namespace

int main(int argc, char**) {
  if (argc > 1) {
    instantiate_all();  // never called; argc keeps it from being folded away
  }
  // Keys are the "claim" fields of sass_budgets.json.
  std::printf("{\n");
  claim<sqc::Int8Gemm::LargeKernel>("int8_large", sqc::Int8Gemm::LargeKernel::kSmemBytes);
  claim<sqc::Int8Gemm::SmallKernel>("int8_small", sqc::Int8Gemm::SmallKernel::kSmemBytes);
  using W16Large = sqc::Sm80W8A16GemmKernel<sqc::kSm80W8A16TileLarge, false>;
  using W16Small = sqc::Sm80W8A16GemmKernel<sqc::kSm80W8A16TileSmall, false>;
  static_assert(
      W16Large::kSmemBytes == sqc::Sm80W8A16GemmKernel<sqc::kSm80W8A16TileLarge, true>::kSmemBytes,
      "fp16 and bf16 W8A16 kernels share a shared-memory layout");
  claim<W16Large>("w8a16_large", W16Large::kSmemBytes);
  claim<W16Small>("w8a16_small", W16Small::kSmemBytes);
  // Every RowKernel shares one SharedStorage (block reductions + a broadcast word).
  using Rows = sqc::RowKernel<sqc::kernel::ConvertOp<float>, sqc::RowOutput::kPerTokenCodes, 4>;
  claim<Rows>("rows", Rows::kSharedBytes);
  claim<sqc::DequantEpilogueKernel>("dequant", 0, true);
  std::printf("}\n");
  return 0;
}
