// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file doctest main for GPU tests: exits 77 ("skipped" to CTest) when no CUDA device exists.
#define DOCTEST_CONFIG_IMPLEMENT
#if defined(SPIKEQUANT_SIMT)
// The emulated CUDA runtime's definitions live in this one translation unit.
#  define SPIKEQUANT_SIMT_IMPLEMENT
#  include "spikequant/simt/runtime.hpp"
#endif
#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>
#include <doctest/doctest.h>

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    listing =
        listing || std::strncmp(argv[i], "--list", 6) == 0 || std::strncmp(argv[i], "-ltc", 4) == 0;
  }
  int devices = 0;
  if (!listing && (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)) {
    std::printf("skipped: no CUDA device present\n");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
