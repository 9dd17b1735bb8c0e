#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# Builds the CUDA tests, benchmarks and CUDA example HERE (a machine with nvcc and our Debian
# packages, no GPU) into BUILD_DIR so that a GPU machine without those packages or network can
# run them with  scripts/gpu-check.sh OUTDIR BUILD_DIR.
#   - one architecture: $SPIKEQUANT_CUDA_ARCH (default 90a, the H100), Release, no sanitizers;
#   - non-system shared libraries the binaries need (libbenchmark, libcudart, libstdc++,
#     libgcc_s ...) are copied into BUILD_DIR/lib; gpu-check.sh puts that folder first on
#     LD_LIBRARY_PATH. cuBLAS / cuBLASLt are too large to carry: they come from the GPU
#     machine's CUDA toolkit;
#   - binaries are stripped; the CMake tree lives beside it in BUILD_DIR.work, so BUILD_DIR
#     holds only bin/, lib/ and stays small (the device tool carries at most 64 MiB).
# Usage: scripts/gpu-prebuild.sh BUILD_DIR        (e.g. build-gpu; keep it inside the repo)
set -euo pipefail
build=${1:?usage: scripts/gpu-prebuild.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
arch=${SPIKEQUANT_CUDA_ARCH:-90a}
jobs=${SPIKEQUANT_JOBS:-2}
mkdir -p "$build"
build=$(cd "$build" && pwd)
work="${build}.work"  # CMake tree beside BUILD_DIR (not carried), kept for rebuilds

cmake -S "$root" -B "$work" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" -DSPIKEQUANT_SANITIZE=OFF \
  -DSPIKEQUANT_TEST_AREAS=cuda -DSPIKEQUANT_BENCH_AREAS=cuda \
  -DSPIKEQUANT_BUILD_TOOLS=OFF -DSPIKEQUANT_BUILD_EXAMPLES=ON -DSPIKEQUANT_INSTALL=OFF \
  -DSPIKEQUANT_BUILD_SIMT=OFF
# Only the CUDA folders (other examples and areas are not needed on the GPU machine).
for dir in test/cuda bench/cuda examples/03_w8a8_linear_cuda; do
  if [[ -f "$work/$dir/Makefile" ]]; then
    make -C "$work/$dir" -j"$jobs"
  fi
done

# Collect executables into BUILD_DIR/{test,bench,examples}/cuda, strip them.
rm -rf "$build/bin" "$build/lib"
mkdir -p "$build/bin/test" "$build/bin/bench" "$build/bin/examples" "$build/lib"
copy_bins() {  # copy_bins SRC_DIR DEST
  local f
  for f in "$1"/*; do
    if [[ -f "$f" && -x "$f" ]]; then
      cp "$f" "$2/"
      strip --strip-unneeded "$2/$(basename "$f")" 2>/dev/null || true
    fi
  done
}
copy_bins "$work/test/cuda" "$build/bin/test"
copy_bins "$work/bench/cuda" "$build/bin/bench"
[[ -d "$work/examples/03_w8a8_linear_cuda" ]] && copy_bins "$work/examples/03_w8a8_linear_cuda" "$build/bin/examples"
cp "$root/bench/cuda/summary.py" "$build/bin/bench/"

# Bundle shared libraries that are not part of glibc, the driver or the large CUDA math libs.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libcuda\.so|libcublas|libcublasLt|libnvidia)'
for bin in "$build"/bin/*/*; do
  [[ -x "$bin" && ! "$bin" == *.py ]] || continue
  ldd "$bin" | awk '/=>/ { print $1, $3 }' | while read -r name path; do
    if [[ ! "$name" =~ $skip && -f "$path" && ! -f "$build/lib/$name" ]]; then
      cp -L "$path" "$build/lib/$name"
      strip --strip-unneeded "$build/lib/$name" 2>/dev/null || true
    fi
  done
done
git -C "$root" rev-parse HEAD > "$build/COMMIT" 2>/dev/null || true
echo "$arch" > "$build/ARCH"
echo "prebuilt into $build ($(du -sh "$build" | cut -f1)); libs: $(ls "$build/lib" | tr '\n' ' ')"
