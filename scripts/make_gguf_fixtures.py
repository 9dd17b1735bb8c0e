#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Writes the GGUF fixtures of spikequant's io tests with the PyPI `gguf` package (gguf-py,
llama.cpp's own Python reader/writer) and its reference dequantization.

  python3 scripts/make_gguf_fixtures.py [OUT_DIR=test/fixtures/gguf]
      quants.gguf      one tensor per block type and case: values quantized by
                       gguf.quants.quantize (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) with
                       ordinary, tiny, huge, zero and outlier scales, and random block bytes
                       with finite fp16 scales for every type (the K-quants gguf-py cannot
                       quantize included; any such bytes are valid input)
      quants.ref.f32   gguf.quants.dequantize of each tensor, float32, concatenated
      quants.manifest  one line per tensor: name type ne0 ne1 first_float count
      metadata.gguf    a key of every value type, arrays of every element type (strings too), general.alignment 64, tensors of 1 to 4 dimensions
  python3 scripts/make_gguf_fixtures.py --model-refs MODELS_DIR
      for each real model GGUF under MODELS_DIR (see scripts/download-models.sh), writes
      <file>.ref/manifest (every tensor: name, type, shape, a checksum of gguf-py's
      dequantization) and <file>.ref/<i>.f32 (first and last rows of a few tensors), and
      for Llama files layer 0's attn_q / attn_k as transformers loads them (Q/K row
      permutation undone; installs transformers, without torch, when missing), for
      test/io/gguf_model_test.cpp.

Needs gguf==0.19.0 and numpy. When they are not importable the script makes a venv under
~/.cache/spikequant/venv-gguf, installs them there and reruns itself with it.
Deterministic: fixed seeds.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(os.path.expanduser("~"), ".cache", "spikequant", "venv-gguf")
GGUF_VERSION = "0.19.0"

try:
    import gguf
    import numpy as np
except ImportError:
    py = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.executable) == os.path.abspath(py):
        raise
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    subprocess.check_call([py, "-m", "pip", "install", "-q", f"gguf=={GGUF_VERSION}", "numpy"])
    os.execv(py, [py] + sys.argv)

from gguf import GGMLQuantizationType as T  # noqa: E402

QUANTIZABLE = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
# Byte offsets of the fp16 scales inside each block, to make random blocks finite.
HALF_FIELDS = {
    T.F16: [0], T.BF16: [], T.F32: [],
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}


def random_halves(rng, n):
    """Finite fp16 bit patterns: normals of any exponent, subnormals, +-0."""
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    exp = (bits >> 10) & 0x1F
    return np.where(exp == 0x1F, bits & np.uint16(0xBFFF), bits).astype(np.uint16)  # no inf/nan


def random_blocks(rng, qtype, n_blocks):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for off in HALF_FIELDS[qtype]:
        raw[:, off:off + 2] = random_halves(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    if qtype == T.F32:  # finite float32 bit patterns
        f = raw.view(np.uint32)
        f[(f & 0x7F800000) == 0x7F800000] &= np.uint32(0xBFFFFFFF)
    if qtype == T.BF16:
        h = raw.view(np.uint16)
        h[(h & 0x7F80) == 0x7F80] &= np.uint16(0xBFFF)
    return raw


def cases(rng, row):
    """Float inputs for the quantizable types: name -> [rows, row] float32."""
    base = rng.standard_normal((4, row)).astype(np.float32)
    zero = np.zeros((2, row), np.float32)
    const = np.full((2, row), -0.75, np.float32)
    outlier = rng.standard_normal((2, row)).astype(np.float32)
    outlier[:, 5] = 300.0
    outlier[1, 40] = -1e4
    return {
        "normal": base,
        "tiny": base * np.float32(1e-6),
        "huge": base * np.float32(2e3),
        "overflow": base * np.float32(1e6),  # fp16 scales overflow to inf: inf and NaN out
        "zero": zero,
        "const": const,
        "outlier": outlier,
    }


def write_quants(out):
    rng = np.random.default_rng(20260)
    w = gguf.GGUFWriter(os.path.join(out, "quants.gguf"), "spikequant-test")
    refs, manifest, first = [], [], 0

    def add(name, qtype, data, ref):
        nonlocal first
        ne0, ne1 = ref.shape[1], ref.shape[0]
        if qtype in (T.F32, T.F16):
            w.add_tensor(name, data)
        else:
            w.add_tensor(name, data, raw_dtype=qtype)
        refs.append(ref.astype(np.float32).ravel())
        manifest.append(f"{name} {qtype.name} {ne0} {ne1} {first} {ref.size}")
        first += ref.size

    for qtype in QUANTIZABLE:
        for case, x in cases(rng, 64).items():
            q = gguf.quants.quantize(x, qtype)
            add(f"{qtype.name.lower()}.{case}", qtype, q, gguf.quants.dequantize(q, qtype))
    # Special values of the float formats, as stored bit patterns.
    f16 = np.array([0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF,
                    0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7D01, 0x3555, 0x8001], np.uint16)
    add("f16.special", T.F16, f16.view(np.float16).reshape(1, -1),
        gguf.quants.dequantize(f16.view(np.float16).reshape(1, -1), T.F16))
    bf16 = np.array([0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x3F80, 0xBF80, 0x7F7F, 0xFF7F,
                     0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7F81, 0x4049, 0x8001], np.uint16)
    braw = bf16.view(np.uint8).reshape(1, -1)
    add("bf16.special", T.BF16, braw, gguf.quants.dequantize(braw, T.BF16))
    for qtype in [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0,
                  T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]:
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        n_rows, per_row = 3, max(1, 256 // block)
        if block == 1:
            per_row = 64
        raw = random_blocks(rng, qtype, n_rows * per_row).reshape(n_rows, per_row * size)
        if qtype == T.F32:
            data, deq = raw.view(np.float32), raw.view(np.float32)
        elif qtype == T.F16:
            data, deq = raw.view(np.float16), gguf.quants.dequantize(raw.view(np.float16), T.F16)
        else:
            data, deq = raw, gguf.quants.dequantize(raw, qtype)
        add(f"{qtype.name.lower()}.random", qtype, data, deq)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    np.concatenate(refs).astype("<f4").tofile(os.path.join(out, "quants.ref.f32"))
    with open(os.path.join(out, "quants.manifest"), "w") as f:
        f.write("\n".join(manifest) + "\n")


def write_metadata(out):
    V = gguf.GGUFValueType
    w = gguf.GGUFWriter(os.path.join(out, "metadata.gguf"), "spikequant-test")
    w.add_custom_alignment(64)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 0.1)
    w.add_bool("t.bool_true", True)
    w.add_bool("t.bool_false", False)
    w.add_string("t.str", "héllo wörld ✓ 😀")
    w.add_key_value("t.empty_str", "", V.STRING)  # add_string would drop an empty value
    w.add_uint64("t.u64", 18000000000000000000)
    w.add_int64("t.i64", -9000000000000000000)
    w.add_float64("t.f64", 2.718281828459045)
    w.add_key_value("t.arr_u8", [0, 1, 255], V.ARRAY, sub_type=V.UINT8)
    w.add_key_value("t.arr_i8", [-128, 0, 127], V.ARRAY, sub_type=V.INT8)
    w.add_key_value("t.arr_u16", [0, 65535], V.ARRAY, sub_type=V.UINT16)
    w.add_key_value("t.arr_i16", [-32768, 32767], V.ARRAY, sub_type=V.INT16)
    w.add_key_value("t.arr_u32", [1, 4294967295], V.ARRAY, sub_type=V.UINT32)
    w.add_key_value("t.arr_i32", [-1, 2, -3], V.ARRAY, sub_type=V.INT32)
    w.add_key_value("t.arr_f32", [0.5, -1.25, 3e38], V.ARRAY, sub_type=V.FLOAT32)
    w.add_key_value("t.arr_bool", [True, False, True], V.ARRAY, sub_type=V.BOOL)
    w.add_array("t.arr_str", ["a", "", "ünï", "<0x0A>", "▁the"])
    w.add_key_value("t.arr_u64", [0, 18446744073709551615], V.ARRAY, sub_type=V.UINT64)
    w.add_key_value("t.arr_i64", [-9223372036854775808, 9223372036854775807], V.ARRAY,
                    sub_type=V.INT64)
    w.add_key_value("t.arr_f64", [1e-300, -2.5], V.ARRAY, sub_type=V.FLOAT64)
    a = np.arange(6, dtype=np.float32)
    w.add_tensor("d1", a)                                        # ne = {6}
    w.add_tensor("d2", a.reshape(2, 3) + 10)                     # ne = {3, 2}
    w.add_tensor("d3", np.arange(24, dtype=np.float32).reshape(2, 3, 4))   # ne = {4, 3, 2}
    w.add_tensor("d4", np.arange(16, dtype=np.float16).reshape(2, 2, 2, 2))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# --- references for the real models -------------------------------------------------------
def checksum(values):
    """sum over i of bits(values[i]) * (2i + 1) mod 2^64: position-dependent, so any changed
    bit or moved element changes it; test/io/gguf_model_test.cpp computes the same."""
    bits = np.ascontiguousarray(values, dtype="<f4").ravel().view(np.uint32).astype(np.uint64)
    weights = np.arange(bits.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return int(np.sum(bits * weights, dtype=np.uint64))


def write_unpermuted(r, refdir):
    """Layer 0's attn_q / attn_k as transformers loads them from this GGUF (its
    LlamaTensorProcessor undoes llama.cpp's Q/K row permutation): `<file>.ref/unpermuted` has
    `name n_head checksum rows file` lines, <file> the first `rows` rows."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "transformers"])
        from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor
    def field(key):
        return int(r.fields[key].parts[-1][0])
    heads = field("llama.attention.head_count")
    kv_heads = field("llama.attention.head_count_kv")
    proc = LlamaTensorProcessor(config={"num_attention_heads": heads,
                                        "num_key_value_heads": kv_heads})
    lines = []
    for t in r.tensors:
        if t.name not in ("blk.0.attn_q.weight", "blk.0.attn_k.weight"):
            continue
        deq = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
        hf = proc.process(deq, t.name).weights
        fn = t.name.replace(".", "_") + ".unpermuted.f32"
        rows = 64
        hf[:rows].astype("<f4").tofile(os.path.join(refdir, fn))
        n_head = heads if ".attn_q." in t.name else kv_heads
        lines.append(f"{t.name} {n_head} {checksum(hf)} {rows} {fn}")
    with open(os.path.join(refdir, "unpermuted"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_model_refs(models_dir):
    """Per model: manifest lines `name type ne0,ne1,.. n_elements checksum [head tail file]`
    for every tensor, and for a few tensors (the first two of each type, the largest, the
    last in the file) the first and last 4 rows dequantized into <i>.f32."""
    found = 0
    for dirpath, _, files in os.walk(models_dir):
        for fn in sorted(files):
            if not fn.endswith(".gguf"):
                continue
            path = os.path.join(dirpath, fn)
            refdir = path + ".ref"
            found += 1
            manifest = os.path.join(refdir, "manifest")
            if os.path.exists(manifest) and os.path.getmtime(manifest) > max(
                    os.path.getmtime(path), os.path.getmtime(os.path.abspath(__file__))):
                print(f"ok       {refdir} (newer than the model and this script)")
                continue
            os.makedirs(refdir, exist_ok=True)
            r = gguf.GGUFReader(path)
            picked, count = set(), {}
            for t in r.tensors:
                if count.get(t.tensor_type, 0) < 2:
                    picked.add(t.name)
                    count[t.tensor_type] = count.get(t.tensor_type, 0) + 1
            picked.add(max(r.tensors, key=lambda t: t.n_elements).name)
            picked.add(r.tensors[-1].name)
            lines = []
            for i, t in enumerate(r.tensors):
                deq = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
                rows = deq.reshape((-1, int(t.shape[0])))
                ne = ",".join(str(int(x)) for x in t.shape)
                line = f"{t.name} {t.tensor_type.name} {ne} {deq.size} {checksum(deq)}"
                if t.name in picked:
                    head, tail = min(4, rows.shape[0]), min(4, rows.shape[0])
                    np.concatenate([rows[:head], rows[rows.shape[0] - tail:]]).astype("<f4").tofile(
                        os.path.join(refdir, f"{i}.f32"))
                    line += f" {head} {tail} {i}.f32"
                lines.append(line)
            arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
            if arch == "llama":
                write_unpermuted(r, refdir)
            with open(os.path.join(refdir, "manifest"), "w") as f:
                f.write("\n".join(lines) + "\n")
            print(f"wrote {refdir}: {len(lines)} tensors, {len(picked)} with rows, "
                  f"types {sorted(x.name for x in count)}")
    if not found:
        sys.exit(f"no .gguf file under {models_dir}")


def main():
    np.seterr(all="ignore")  # the overflow cases overflow on purpose
    if len(sys.argv) > 2 and sys.argv[1] == "--model-refs":
        write_model_refs(sys.argv[2])
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "gguf")
    os.makedirs(out, exist_ok=True)
    write_quants(out)
    write_metadata(out)
    for fn in sorted(os.listdir(out)):
        print(f"{fn}: {os.path.getsize(os.path.join(out, fn))} bytes")


if __name__ == "__main__":
    main()
