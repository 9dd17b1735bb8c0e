#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# Downloads the data spikequant's tests, examples and benchmarks read (the files listed in
# ../shared/data/SOURCES.md) from their public sources, and verifies each sha256.
#
#   scripts/download-data.sh [DEST=../shared/data]
#   export SPIKEQUANT_DATA=$(realpath DEST)     # if DEST is not ../shared/data
#
# Needs curl (or wget) and sha256sum. Files already present with the right hash are kept.
# Each file lists several URLs, tried in order until one gives the expected bytes.
# Licenses: stories260K (MIT), LLaMA-2 tokenizer (Llama 2 Community License, Meta),
# TinyStories (CDLA-Sharing-1.0), WikiText-2 (CC BY-SA 3.0).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$root/../shared/data}
mkdir -p "$dest"

fetch() {  # fetch URL OUT
  if command -v curl > /dev/null; then
    curl -fsSL --retry 3 -o "$2" "$1"
  else
    wget -q -O "$2" "$1"
  fi
}

failed=0
get() {  # get REL SHA256 URL...
  local rel=$1 sha=$2
  shift 2
  local out="$dest/$rel"
  mkdir -p "$(dirname "$out")"
  if [[ -f "$out" ]] && echo "$sha  $out" | sha256sum -c --status; then
    echo "ok       $rel (already present)"
    return
  fi
  local url
  for url in "$@"; do
    if fetch "$url" "$out.part" 2> /dev/null && echo "$sha  $out.part" | sha256sum -c --status; then
      mv "$out.part" "$out"
      echo "fetched  $rel  <- $url"
      return
    fi
    rm -f "$out.part"
  done
  echo "FAILED   $rel: no source gave sha256 $sha" >&2
  failed=1
}

hf=https://huggingface.co
gh=https://raw.githubusercontent.com

get models/stories260K/stories260K.bin b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696 \
  "$hf/karpathy/tinyllamas/resolve/main/stories260K/stories260K.bin" \
  "$gh/ytmytm/llama2.c64/main/stories260K.bin" \
  "$gh/ytmytm/llama2.c64/master/stories260K.bin"
get models/stories260K/tok512.bin 037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312 \
  "$hf/karpathy/tinyllamas/resolve/main/stories260K/tok512.bin" \
  "$gh/ytmytm/llama2.c64/main/tok512.bin" \
  "$gh/ytmytm/llama2.c64/master/tok512.bin"
get tokenizers/llama2/tokenizer.model 9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347 \
  "$gh/karpathy/llama2.c/master/tokenizer.model"
get tokenizers/llama2/tokenizer.bin 50a52ef822ee9e83de5ce9d0be0a025a773d019437f58b5ff9dcafb063ece361 \
  "$gh/karpathy/llama2.c/master/tokenizer.bin"
get text/tinystories_val.txt 5fc1fb0113df62b567fb271806cd645ce8d75f59c58ca0b764c03d3b6ff34ca6 \
  "$gh/yuninxia/moe-routing-bench/6877be50c1c389c73047d7f27104bee6a995efd6/data/tinystories_val.txt" \
  "$gh/yuninxia/moe-routing-bench/main/data/tinystories_val.txt"
get text/wikitext2_test.raw 4f3e427e4aff23acff917a8a51aeae21bf12832256e26914c8fc250dcef4103c \
  "$gh/Tylogi/TyloQuant/aa7023b3a96905a70f7a7ce9836834f02694c670/data/wikitext-2-raw/wiki.test.raw" \
  "$gh/Tylogi/TyloQuant/main/data/wikitext-2-raw/wiki.test.raw"

if [[ $failed -ne 0 ]]; then
  echo "some files could not be fetched with the expected hash; see SOURCES.md for their origin" >&2
  exit 1
fi
echo "data ready in $dest"
