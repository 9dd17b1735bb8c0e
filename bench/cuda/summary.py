#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Markdown summary of Google Benchmark JSON files from the CUDA benchmarks (stdlib only).

Usage: summary.py RESULT.json [MORE.json ...] [--json OUT.json]

* Memory-bound kernels (entries with a `GBps` counter): GB/s, the same-traffic copy GB/s
  measured in that run (`copy_GBps`) and `ratio_to_copy`.
* GEMMs (entries with a `TOPS` counter, named like `Gemm/<impl>/<M>/<N>/<K>`, possibly with a
  prefix or `/manual_time` suffix): TOPS and the ratio to `Gemm/cublas_f16/...` at the same
  (M, N, K) found in any of the files.
Missing or empty files (a run without a GPU) are reported, not fatal.
"""
import json
import re
import sys

_SHAPE = re.compile(r"^(?P<impl>.*?)/(?:M:)?(?P<m>\d+)/(?:N:)?(?P<n>\d+)/(?:K:)?(?P<k>\d+)$")


def _strip(name):
    for suffix in ("/manual_time", "/real_time", "/process_time"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def load(paths):
    """Returns (entries, contexts, problems) over all files."""
    entries, contexts, problems = [], [], []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if not text.strip():
                problems.append(f"{path}: empty (no CUDA device?)")
                continue
            data = json.loads(text)
        except FileNotFoundError:
            problems.append(f"{path}: missing (no CUDA device?)")
            continue
        except (OSError, json.JSONDecodeError) as e:
            problems.append(f"{path}: unreadable ({e})")
            continue
        contexts.append(data.get("context", {}))
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            if b.get("error_occurred"):
                problems.append(f"{path}: {b.get('name')}: {b.get('error_message', 'error')}")
                continue
            entries.append(b)
    return entries, contexts, problems


def _fmt(x, digits=1):
    return "-" if x is None else f"{x:.{digits}f}"


def memory_rows(entries):
    rows = []
    for b in entries:
        if "GBps" not in b:
            continue
        rows.append(
            {
                "name": _strip(b["name"]),
                "time_us": b.get("real_time"),
                "time_unit": b.get("time_unit", ""),
                "GBps": b["GBps"],
                "copy_GBps": b.get("copy_GBps"),
                "ratio_to_copy": b.get("ratio_to_copy"),
            }
        )
    return rows


def gemm_rows(entries):
    parsed = []
    for b in entries:
        if "TOPS" not in b:
            continue
        name = _strip(b["name"])
        m = _SHAPE.match(name)
        shape = (int(m["m"]), int(m["n"]), int(m["k"])) if m else None
        impl = m["impl"] if m else name
        parsed.append({"name": name, "impl": impl, "shape": shape, "TOPS": b["TOPS"]})
    base = {p["shape"]: p["TOPS"] for p in parsed if p["shape"] and "cublas_f16" in p["impl"]}
    for p in parsed:
        ref = base.get(p["shape"])
        p["cublas_f16_TOPS"] = ref
        p["ratio_to_cublas_f16"] = (p["TOPS"] / ref) if ref else None
    return parsed


def markdown(mem, gemm, contexts, problems):
    out = []
    devices = sorted({c.get("cuda_device", "") for c in contexts if c.get("cuda_device")})
    if devices:
        out.append(f"Device: {', '.join(devices)}")
        out.append("")
    if mem:
        out.append("### Memory-bound kernels")
        out.append("")
        out.append("| benchmark | time | GB/s | copy GB/s | ratio to copy |")
        out.append("|---|---:|---:|---:|---:|")
        for r in mem:
            t = f"{_fmt(r['time_us'], 2)} {r['time_unit']}"
            out.append(
                f"| {r['name']} | {t} | {_fmt(r['GBps'])} | {_fmt(r['copy_GBps'])} | "
                f"{_fmt(r['ratio_to_copy'], 2)} |"
            )
        out.append("")
    if gemm:
        out.append("### GEMM")
        out.append("")
        out.append("| benchmark | M | N | K | TOPS | cuBLAS FP16 TOPS | ratio to cuBLAS FP16 |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for g in gemm:
            m, n, k = g["shape"] if g["shape"] else ("?", "?", "?")
            out.append(
                f"| {g['name']} | {m} | {n} | {k} | {_fmt(g['TOPS'], 2)} | "
                f"{_fmt(g['cublas_f16_TOPS'], 2)} | {_fmt(g['ratio_to_cublas_f16'], 2)} |"
            )
        out.append("")
    if not mem and not gemm:
        out.append("No benchmark results (no CUDA device, or no benchmarks ran).")
        out.append("")
    if problems:
        out.append("Notes:")
        out.extend(f"- {p}" for p in problems)
        out.append("")
    return "\n".join(out)


def main(argv):
    json_out = None
    paths = []
    it = iter(argv[1:])
    for a in it:
        if a == "--json":
            json_out = next(it, None)
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            paths.append(a)
    entries, contexts, problems = load(paths)
    mem, gemm = memory_rows(entries), gemm_rows(entries)
    print(markdown(mem, gemm, contexts, problems))
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump({"memory": mem, "gemm": gemm, "problems": problems}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
