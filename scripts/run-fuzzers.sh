#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# Runs each io libFuzzer target for a while with a seed corpus made on the fly; fails on the
# first crash, leak, sanitizer report or timeout.
#
#   CXX=clang++ cmake -S . -B build-fuzz -DSPIKEQUANT_BUILD_FUZZERS=ON -DSPIKEQUANT_ENABLE_CUDA=OFF \
#     -DSPIKEQUANT_BUILD_TESTS=OFF -DSPIKEQUANT_BUILD_BENCH=OFF -DSPIKEQUANT_BUILD_EXAMPLES=OFF \
#     -DSPIKEQUANT_BUILD_TOOLS=OFF
#   cmake --build build-fuzz -j2
#   scripts/run-fuzzers.sh build-fuzz 20
#
# Seeds: llama2.c / tokenizer files from $SPIKEQUANT_DATA (or ../shared/data) when present,
# plus small synthetic files this script writes, plus the committed HF and GGUF fixtures.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [SECONDS_PER_FUZZER=20]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=${2:-20}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${SPIKEQUANT_DATA:-$root/../shared/data}
work=$(mktemp -d "${TMPDIR:-/tmp}/spikequant-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

fuzzers=(llama2c safetensors tokenizer_bin hf_config gguf)
# The GGUF tokenizer fuzzer needs PCRE2; it is run when it was built.
[[ -x "$build/test/fuzz/fuzz_gguf_tokenizer" ]] && fuzzers+=(gguf_tokenizer)
for f in "${fuzzers[@]}"; do
  [[ -x "$build/test/fuzz/fuzz_$f" ]] || { echo "missing $build/test/fuzz/fuzz_$f (build with -DSPIKEQUANT_BUILD_FUZZERS=ON and clang++)" >&2; exit 2; }
  mkdir -p "$work/seeds/$f" "$work/corpus/$f" "$work/artifacts/$f"
done

# --- seeds ------------------------------------------------------------------------------
python3 - "$work/seeds" <<'PY'
import json, struct, sys, os
out = sys.argv[1]
def write(sub, name, data):
    with open(os.path.join(out, sub, name), "wb") as f:
        f.write(data)
# llama2.c legacy and version-1 files of a tiny model (dim 8, hidden 12, 1 layer, 2 heads, 1 kv, vocab 6, seq 4)
dim, hid, L, H, KV, V, S = 8, 12, 1, 2, 1, 6, 4
head = dim // H; kvd = head * KV
def floats(n, base): return struct.pack(f"{n}f", *[base + i * 0.01 for i in range(n)])
layer = [dim, dim * dim, dim * kvd, dim * kvd, dim * dim, dim, dim * hid, dim * hid, dim * hid]
body = floats(V * dim, 0) + b"".join(floats(n * L, k) for k, n in enumerate(layer)) + floats(dim, 9)
write("llama2c", "legacy_shared.bin", struct.pack("7i", dim, hid, L, H, KV, V, S) + body + floats(S * head, 7))
write("llama2c", "legacy_cls.bin", struct.pack("7i", dim, hid, L, H, KV, -V, S) + body + floats(S * head, 7) + floats(V * dim, 8))
hdr = struct.pack("Ii7iB", 0x616b3432, 1, dim, hid, L, H, KV, V, S, 1)
write("llama2c", "v1.bin", hdr + b"\0" * (256 - len(hdr)) + body)
# safetensors with all three float dtypes and metadata
meta = {"__metadata__": {"format": "pt"},
        "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "h": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]},
        "b": {"dtype": "BF16", "shape": [2], "data_offsets": [32, 36]}}
text = json.dumps(meta).encode(); text += b" " * (-len(text) % 8)
data = struct.pack("6f", 1, 2, 3, 4, 5, 6) + struct.pack("4H", 0x3C00, 0x0001, 0x7C00, 0xFE00) + struct.pack("2H", 0x3F80, 0x4040)
write("safetensors", "small.safetensors", struct.pack("<Q", len(text)) + text + data)
# a tiny tokenizer.bin with byte fallback pieces, then the marker and a text to encode
pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x%02X>" % i for i in range(256)] + [b" ", b"a", b" a", b"ab", b" ab"]
tok = struct.pack("i", 7) + b"".join(struct.pack("fi", -float(i), len(p)) + p for i, p in enumerate(pieces))
write("tokenizer_bin", "tiny.bin", tok)
write("tokenizer_bin", "tiny_text.bin", tok + b"\xff\x00\xff" + "ab a é 😀".encode())
# GGUF tokenizer seeds: mode byte 0 + a GGUF holding a small gpt2 vocabulary; mode byte 1 +
# the text form (text line, tokens, empty line, merges) of fuzz_gguf_tokenizer.cpp.
def gs(x): b = x.encode(); return struct.pack("<Q", len(b)) + b
def kv_str(k, v): return gs(k) + struct.pack("<I", 8) + gs(v)
def kv_strs(k, a): return gs(k) + struct.pack("<IIQ", 9, 8, len(a)) + b"".join(gs(x) for x in a)
def kv_i32s(k, a): return gs(k) + struct.pack("<IIQ", 9, 5, len(a)) + struct.pack(f"<{len(a)}i", *a)
def kv_u32(k, v): return gs(k) + struct.pack("<II", 4, v)
toks = ["<s>", "a", "b", "c", "\u0120", "ab", "abc", "\u0120a", "1", "2", "<|im_start|>"]
kvs = [kv_str("tokenizer.ggml.model", "gpt2"), kv_str("tokenizer.ggml.pre", "smollm"),
       kv_strs("tokenizer.ggml.tokens", toks), kv_i32s("tokenizer.ggml.token_type", [3] + [1] * 9 + [3]),
       kv_strs("tokenizer.ggml.merges", ["a b", "ab c", "\u0120 a"]), kv_u32("tokenizer.ggml.bos_token_id", 0)]
os.makedirs(os.path.join(out, "gguf_tokenizer"), exist_ok=True)
write("gguf_tokenizer", "vocab.gguf", b"\x00GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs))
text_form = "ab abc a 12 <s>\n" + "\n".join(toks) + "\n\na b\nab c\n\u0120 a"
write("gguf_tokenizer", "text_form.txt", b"\x01" + text_form.encode())
write("hf_config", "index.json", json.dumps({"metadata": {}, "weight_map": {"model.norm.weight": "model-00001-of-00002.safetensors"}}).encode())
PY
if [[ -f "$data/models/stories260K/stories260K.bin" ]]; then
  head -c 4096 "$data/models/stories260K/stories260K.bin" > "$work/seeds/llama2c/stories260K_head.bin"
  cp "$data/models/stories260K/tok512.bin" "$work/seeds/tokenizer_bin/tok512.bin"
else
  echo "note: shared data not found at $data; using synthetic seeds only" >&2
fi
for d in "$root"/test/fixtures/hf/*/; do
  n=$(basename "$d")
  cp "$d/config.json" "$work/seeds/hf_config/$n-config.json"
  [[ -f "$d/model.safetensors.index.json" ]] && cp "$d/model.safetensors.index.json" "$work/seeds/hf_config/$n-index.json"
done
cp "$root/test/fixtures/hf/mistral/model.safetensors" "$work/seeds/safetensors/mistral.safetensors"
cp "$root"/test/fixtures/gguf/*.gguf "$work/seeds/gguf/"
if [[ -d "$work/seeds/gguf_tokenizer" ]]; then
  for g in "$root"/test/fixtures/gguf/*.gguf; do  # mode byte 0: a GGUF file follows
    { printf '\0'; cat "$g"; } > "$work/seeds/gguf_tokenizer/$(basename "$g")"
  done
fi

# --- run --------------------------------------------------------------------------------
status=0
for f in "${fuzzers[@]}"; do
  echo "== fuzz_$f for ${seconds}s"
  if ! "$build/test/fuzz/fuzz_$f" "$work/corpus/$f" "$work/seeds/$f" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=131072 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/$f/" > "$work/$f.log" 2>&1; then
    status=1
    echo "FAILED: fuzz_$f (log tail below; reproducer kept in $build/fuzz-artifacts/$f)" >&2
    tail -40 "$work/$f.log" >&2
    mkdir -p "$build/fuzz-artifacts/$f"
    cp "$work/artifacts/$f/"* "$build/fuzz-artifacts/$f/" 2>/dev/null || true
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$f.log" | tr '\n' ' '
    echo " corpus: $(ls "$work/corpus/$f" | wc -l) files"
  fi
done
[[ $status -eq 0 ]] && echo "all fuzzers ran without a crash"
exit $status
