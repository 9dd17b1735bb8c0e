#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# The main job: builds the spikequant tool (Release) and runs `spikequant report` on the bundled
# stories260K model and TinyStories text: calibrate, then the Table 3 analog (FP32; W8A8 AQ1,
# AQ2, AQ3; each +QFeM, +QFeP, +both) for the real model and for the planted-spike scenario.
#
#   scripts/report.sh [OUT_DIR] [extra `spikequant report` flags]
# Data: $SPIKEQUANT_DATA, or ../shared/data beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/report}
shift || true
scripts/install-deps.sh
cmake -S . -B build-report -DCMAKE_BUILD_TYPE=Release -DSPIKEQUANT_ENABLE_CUDA=OFF \
  -DSPIKEQUANT_BUILD_TESTS=OFF -DSPIKEQUANT_BUILD_BENCH=OFF -DSPIKEQUANT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-report -j"$(nproc)" --target spikequant_cli
mkdir -p "$out"
build-report/tools/spikequant/spikequant report --out "$out" "$@"
