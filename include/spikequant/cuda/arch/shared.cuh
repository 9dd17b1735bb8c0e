// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Loads and stores of C++ objects in shared memory. On a device they are plain accesses;
//! in the SIMT emulator they pass the shared-memory race and bank checks, which a plain
//! dereference would bypass. Kernels touch shared memory only through these and the PTX
//! wrappers of sm80_mma.cuh.
#pragma once

#include "spikequant/core/config.hpp"
#include "spikequant/cuda/arch/simt_site.cuh"

namespace spikequant::inline v0::cuda::arch {

//! *p, for `p` in shared memory.
template <class T>
SPIKEQUANT_DEVICE T load_shared(T const* p SPIKEQUANT_SIMT_SITE) {
#if defined(SPIKEQUANT_SIMT)
  return simt::ld_shared<T>(simt::shared_offset(p, site), site);
#else
  return *p;
#endif
}

//! *p = v, for `p` in shared memory.
template <class T>
SPIKEQUANT_DEVICE void store_shared(T* p, T const& v SPIKEQUANT_SIMT_SITE) {
#if defined(SPIKEQUANT_SIMT)
  simt::st_shared<T>(simt::shared_offset(p, site), v, site);
#else
  *p = v;
#endif
}

}  // namespace spikequant::v0::cuda::arch
