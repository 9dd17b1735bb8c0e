#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# Builds test/package/consumer against spikequant two ways and runs it:
#   (a) cmake --install to a temporary prefix, then find_package(spikequant REQUIRED);
#   (b) FetchContent with SOURCE_DIR = this checkout (fully disconnected: no network);
#   (c) the `spikequant` command: cmake --install puts it in <prefix>/bin;
#   (d) without Eigen, find_package warns "install libeigen3-dev" and the build stops with
#       one #error saying the same, not a generic missing-target error.
# The consumer's CMakeLists fails its configure if the CUDA language got enabled.
# Usage: check.sh <spikequant source dir> [work dir]   (env: CMAKE_COMMAND, CXX)
set -euo pipefail

src=$(cd "${1:?usage: check.sh <source dir> [work dir]}" && pwd)
work=${2:-$(mktemp -d)}
cmake=${CMAKE_COMMAND:-cmake}
jobs=${SPIKEQUANT_PACKAGE_JOBS:-2}

rm -rf "$work"
mkdir -p "$work"
step() { printf '\n== %s\n' "$*"; }

step "configure + install spikequant to $work/prefix"
"$cmake" -S "$src" -B "$work/lib" -DSPIKEQUANT_BUILD_TESTS=OFF -DSPIKEQUANT_BUILD_BENCH=OFF \
  -DSPIKEQUANT_BUILD_EXAMPLES=OFF -DSPIKEQUANT_BUILD_TOOLS=OFF -DSPIKEQUANT_ENABLE_CUDA=OFF \
  -DCMAKE_INSTALL_PREFIX="$work/prefix" >"$work/lib.log" 2>&1 || { cat "$work/lib.log"; exit 1; }
"$cmake" --install "$work/lib" >>"$work/lib.log" 2>&1 || { cat "$work/lib.log"; exit 1; }
test -f "$work/prefix/include/spikequant/spikequant.hpp"
ls "$work"/prefix/lib*/cmake/spikequant/spikequantConfig.cmake >/dev/null

step "consumer (a): find_package(spikequant REQUIRED)"
"$cmake" -S "$src/test/package/consumer" -B "$work/find" -DSPIKEQUANT_CONSUMER_MODE=find_package \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$work/find" -j "$jobs"
"$work/find/spikequant_consumer"

step "consumer (b): FetchContent SOURCE_DIR=$src (disconnected)"
"$cmake" -S "$src/test/package/consumer" -B "$work/fetch" -DSPIKEQUANT_CONSUMER_MODE=fetchcontent \
  -DSPIKEQUANT_CONSUMER_SOURCE="$src" -DFETCHCONTENT_FULLY_DISCONNECTED=ON -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$work/fetch" -j "$jobs"
"$work/fetch/spikequant_consumer"

step "the spikequant command installs to $work/prefix-tool/bin"
"$cmake" -S "$src" -B "$work/tool" -DSPIKEQUANT_BUILD_TESTS=OFF -DSPIKEQUANT_BUILD_BENCH=OFF \
  -DSPIKEQUANT_BUILD_EXAMPLES=OFF -DSPIKEQUANT_ENABLE_CUDA=OFF -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$work/prefix-tool" >"$work/tool.log" 2>&1 || { cat "$work/tool.log"; exit 1; }
"$cmake" --build "$work/tool" -j "$jobs" --target spikequant_cli
"$cmake" --install "$work/tool" >>"$work/tool.log" 2>&1 || { cat "$work/tool.log"; exit 1; }
"$work/prefix-tool/bin/spikequant" --version | grep -q '^spikequant [0-9]*\.[0-9]*\.[0-9]*$'

step "consumer without Eigen: a warning naming libeigen3-dev, then one clear #error"
"$cmake" -S "$src/test/package/consumer" -B "$work/noeigen" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_DISABLE_FIND_PACKAGE_Eigen3=ON >"$work/noeigen.log" 2>&1 || { cat "$work/noeigen.log"; exit 1; }
grep -q "libeigen3-dev" "$work/noeigen.log" || { cat "$work/noeigen.log"; exit 1; }
if "$cmake" --build "$work/noeigen" >"$work/noeigen-build.log" 2>&1; then
  echo "the consumer built without Eigen"; exit 1
fi
grep -q "spikequant::cpu needs Eigen 3.3 headers" "$work/noeigen-build.log" || { cat "$work/noeigen-build.log"; exit 1; }

step "package check passed"
