#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# The rules that let the SIMT emulator run the CUDA kernels unchanged (docs/simt.md):
#   - inline PTX (asm) only in include/spikequant/cuda/arch/, each wrapper with an emulated branch;
#   - kernel launches (<<<...>>>) only in cuda/runtime/launch.cuh (launch_kernel);
#   - dynamic shared memory only through SPIKEQUANT_DYNAMIC_SHARED (no other extern __shared__);
#   - no CUB (it does not compile in a host pass): kernels use kernel/block_reduce.cuh.
# Exits 1 and names every offending line.
set -euo pipefail
cd "$(dirname "$0")/.."
cuda=include/spikequant/cuda
status=0
report() {
  echo "check-kernel-source: $1"
  echo "$2" | sed 's/^/  /'
  status=1
}
if hits=$(grep -rnE '\basm\b|__asm__' "$cuda" --include='*.cuh' --include='*.hpp' | grep -v "^$cuda/arch/"); then
  report "inline PTX outside cuda/arch/ (add a wrapper there, with its SPIKEQUANT_SIMT branch):" "$hits"
fi
for f in "$cuda"/arch/*.cuh; do
  n_asm=$(grep -cE '\basm\b' "$f" || true)
  n_simt=$(grep -c 'SPIKEQUANT_SIMT)' "$f" || true)
  if ((n_asm > 0 && n_simt == 0)); then
    report "$f has PTX but no emulated (SPIKEQUANT_SIMT) branch:" "$f"
  fi
done
if hits=$(grep -rn '<<<' "$cuda" | grep -v "^$cuda/runtime/launch.cuh:"); then
  report "kernel launch outside launch_kernel (cuda/runtime/launch.cuh):" "$hits"
fi
if hits=$(grep -rn 'extern __shared__' "$cuda" | grep -v "^$cuda/runtime/launch.cuh:"); then
  report "dynamic shared memory declared outside SPIKEQUANT_DYNAMIC_SHARED:" "$hits"
fi
if hits=$(grep -rn '#include <cub/' "$cuda"); then
  report "CUB in a kernel (use kernel/block_reduce.cuh):" "$hits"
fi
if ((status == 0)); then
  echo "check-kernel-source: PTX only in cuda/arch, one launch function, one shared-memory macro, no CUB"
fi
exit $status
