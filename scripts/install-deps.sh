#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# Installs the Debian packages spikequant's build, tests, benchmarks and tools need.
# Idempotent: packages already present are skipped, so repeated runs take seconds.
set -euo pipefail

packages=(
  cmake g++ make git python3              # build
  python3-pip python3-venv                 # scripts/download-models.sh, make_gguf_fixtures.py
  libeigen3-dev                            # CPU reference backend
  doctest-dev                              # tests
  libbenchmark-dev                         # benchmarks
  nlohmann-json3-dev                       # safetensors headers, recipes, --json
  libsentencepiece-dev                     # tokenizer.model (LLaMA-2 SentencePiece)
  libpcre2-dev                             # GGUF byte-level BPE pre-tokenizer regexes
  clang clang-format libclang-rt-14-dev    # fuzzers and the format check
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if ! command -v nvcc >/dev/null 2>&1; then
  echo "install-deps: nvcc not found: CUDA code will not be built (install the CUDA toolkit to build it)"
fi
