#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Mutation proof of the SIMT-emulated CUDA suite (docs/simt.md).

Copies the repository's tracked files to a scratch folder, builds the emulated tests there
once, then for each deliberate kernel bug: applies it, rebuilds the affected test, runs it and
records whether the suite caught it (a failed assertion or a checker report), then reverts.
A mutant that still passes is a hole in the suite: the script exits 1.

    scripts/simt-mutants.py                 # all mutants, table on stdout
    scripts/simt-mutants.py --only pitch    # mutants whose name contains "pitch"
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

K = "include/spikequant/cuda/kernel/"
INT8, W8A16, QUANT, GLU, DEQUANT = (
    "test_cuda_sm80_int8_gemm_simt",
    "test_cuda_sm80_w8a16_gemm_simt",
    "test_cuda_quantize_simt",
    "test_cuda_glu_rmsnorm_simt",
    "test_cuda_dequant_epilogue_simt",
)

# (name, [(file, old, new), ...], test target, doctest -tc filter or None)
MUTANTS = [
    ("cp.async wait leaves one group too many in flight",
     [(K + "sm80_gemm_index.hpp", "return stages - 2;", "return stages - 1;")], INT8, "*raw*"),
    ("__syncthreads after the wait removed",
     [(K + "sm80_gemm_common.cuh", "    // reuses) is no longer read by any warp.\n    __syncthreads();\n",
       "    // reuses) is no longer read by any warp.\n")], INT8, "*raw*"),
    ("W8A16 high weight byte converted from the wrong bits",
     [(K + "sm80_w8a16_gemm.cuh", "((two_bytes >> 8) & 0xffu)", "((two_bytes >> 9) & 0xffu)")], W8A16,
     "*integer*"),
    ("pipeline slot reused while live",
     [(K + "sm80_gemm_index.hpp", "return tile % stages;", "return tile % (stages - 1);")], INT8, "*raw*"),
    ("off-by-one row predicate of the tile loader",
     [(K + "sm80_gemm_index.hpp", "c.pred = grow < row_limit && gcol < col_limit;",
       "c.pred = grow <= row_limit && gcol < col_limit;")], INT8, "*raw*"),
    ("off-by-one K predicate of the tile loader",
     [(K + "sm80_gemm_index.hpp", "c.pred = grow < row_limit && gcol < col_limit;",
       "c.pred = grow < row_limit && gcol <= col_limit;")], INT8, "*raw*"),
    ("swapped B fragment registers",
     [(K + "sm80_int8_gemm.cuh", "b_frag[j][0] = r[0];", "b_frag[j][0] = r[1];")], INT8, "*raw*"),
    ("padded shared-memory pitch with bank conflicts",
     [(K + "sm80_gemm_index.hpp", "return data_bytes + 16;", "return data_bytes + 32;"),
      (K + "sm80_int8_gemm.cuh", "static_assert((kPitch / 16) % 2 == 1,", "static_assert(true,"),
      (K + "sm80_w8a16_gemm.cuh", "static_assert((kPitchA / 16) % 2 == 1,", "static_assert(true,")],
     INT8, "*bank*"),
    ("one lane skips an mma",
     [(K + "sm80_int8_gemm.cuh", "arch::mma_s8_16x8x32(acc[i][j], a_frag[i], b_frag[j]);",
       "if (lane != 7) { arch::mma_s8_16x8x32(acc[i][j], a_frag[i], b_frag[j]); }")],
     INT8, "*raw*"),
    ("output store predicate off by one",
     [(K + "sm80_int8_gemm.cuh", "    if (row >= p.m || col >= p.n) {", "    if (row > p.m || col >= p.n) {")],
     INT8, "*raw*"),
    ("wrong activation-scale index in the epilogue",
     [(K + "dequant_epilogue.cuh", "e.act_scales[e.act_per_token ? row : 0]",
       "e.act_scales[e.act_per_token ? row / 2 : 0]")], INT8, "*epilogue*"),
    ("W8A16 second B register from the wrong k",
     [(K + "sm80_gemm_index.hpp", "inline constexpr int kW8B1Offset = 8;",
       "inline constexpr int kW8B1Offset = 4;")], W8A16, "*integer*"),
    ("W8A16 A fragments from the wrong k step",
     [(K + "sm80_w8a16_gemm.cuh", "ldmatrix_a_offset<Tile>(kPitchA, warp, i, ks * 32, lane)",
       "ldmatrix_a_offset<Tile>(kPitchA, warp, i, ks * 16, lane)")], W8A16, "*integer*"),
    ("wrong row staged in the quantize reduction",
     [(K + "quantize_rows.cuh", "Op::template stage<kVec>(p.op, row, v * kVec, cache[i]);",
       "Op::template stage<kVec>(p.op, row == 0 ? 0 : row - 1, v * kVec, cache[i]);")], QUANT, None),
    ("block reduction's butterfly skips half the warp",
     [(K + "block_reduce.cuh", "for (int offset = 16; offset > 0; offset /= 2)",
       "for (int offset = 8; offset > 0; offset /= 2)")], QUANT, None),
    ("reduction storage reused without a barrier",
     [(K + "block_reduce.cuh", "    __syncthreads();  // storage may be reused by the next reduction\n", "")],
     GLU, None),
    ("dequant kernel's column bound off by one",
     [(K + "dequant_epilogue.cuh", "    if (col >= p.n) {", "    if (col > p.n) {")], DEQUANT, None),
    ("RMSNorm mean over the wrong count",
     [(K + "rmsnorm_quantize.cuh", "sum_sq / static_cast<double>(cols)", "sum_sq / static_cast<double>(cols + 1)")],
     GLU, None),
]


def run(cmd, cwd, timeout=900):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout


def exe(build, target):
    for sub in ("test/cuda", "test/simt"):
        path = os.path.join(build, sub, target)
        if os.path.exists(path):
            return path
    raise SystemExit(f"simt-mutants: {target} was not built")


def verdict(output):
    """How the failure showed: the emulator's first report, else the first failed check."""
    m = re.search(r"simt: ([^\n]*)", output)
    if m:
        text = re.sub(r" \[block .*\]$", "", m.group(1))
        return "checker: " + (text[:110] + "..." if len(text) > 110 else text)
    m = re.search(r"ERROR: (CHECK[^\n]*)", output)
    if m:
        return "assertion: " + m.group(1)[:80]
    return "failed (exit status)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="run only mutants whose name contains this text")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    scratch = tempfile.mkdtemp(prefix="spikequant-mutants-")
    src, build = os.path.join(scratch, "src"), os.path.join(scratch, "build")
    files = subprocess.run(["git", "ls-files"], cwd=root, stdout=subprocess.PIPE, text=True,
                           check=True).stdout.split()
    for f in files:
        if os.path.isfile(os.path.join(root, f)):
            os.makedirs(os.path.dirname(os.path.join(src, f)) or src, exist_ok=True)
            shutil.copy2(os.path.join(root, f), os.path.join(src, f))
    mutants = [m for m in MUTANTS if args.only in m[0]]
    targets = sorted({m[2] for m in mutants})
    rc, out = run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=", "-DCMAKE_CXX_FLAGS=-O1",
                   "-DSPIKEQUANT_ENABLE_CUDA=OFF", "-DSPIKEQUANT_TEST_AREAS=cuda;simt",
                   "-DSPIKEQUANT_BUILD_BENCH=OFF", "-DSPIKEQUANT_BUILD_EXAMPLES=OFF",
                   "-DSPIKEQUANT_BUILD_TOOLS=OFF"], root)
    if rc != 0:
        sys.exit("simt-mutants: configure failed\n" + out)
    print(f"simt-mutants: baseline build of {', '.join(targets)} in {scratch}", flush=True)
    rc, out = run(["cmake", "--build", build, "-j", str(args.jobs), "--target", *targets], root)
    if rc != 0:
        sys.exit("simt-mutants: the unmutated build fails\n" + out[-4000:])
    for t in targets:
        rc, out = run([exe(build, t)], build)
        if rc != 0:
            sys.exit(f"simt-mutants: {t} fails without any mutation\n" + out[-4000:])
    rows, missed = [], 0
    for name, edits, target, flt in mutants:
        originals = {}
        for path, old, new in edits:
            full = os.path.join(src, path)
            text = originals.setdefault(full, open(full).read())
            current = open(full).read()
            if current.count(old) != 1:
                sys.exit(f"simt-mutants: '{name}': the text to mutate occurs {current.count(old)} times in {path}")
            open(full, "w").write(current.replace(old, new))
        t0 = time.time()
        rc, out = run(["cmake", "--build", build, "-j", str(args.jobs), "--target", target], root)
        if rc != 0:
            how, caught = "build fails", True
        else:
            cmd = [exe(build, target)] + ([f"-tc={flt}"] if flt else [])
            try:
                rc, out = run(cmd, build, timeout=600)
                caught = rc != 0
                how = verdict(out) if caught else "NOT CAUGHT: the suite passes"
            except subprocess.TimeoutExpired:
                caught, how = False, "NOT CAUGHT: timed out"
        for full, text in originals.items():
            open(full, "w").write(text)
        missed += 0 if caught else 1
        rows.append((name, target.removesuffix("_simt"), how))
        print(f"  [{'caught' if caught else 'MISSED'}] {name} ({time.time() - t0:.0f} s): {how}", flush=True)
    print("\n| mutant | test | how it was caught |\n|---|---|---|")
    for name, target, how in rows:
        print(f"| {name} | {target} | {how.replace('|', '/')} |")
    print(f"\nsimt-mutants: {len(rows) - missed} of {len(rows)} mutants caught")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
