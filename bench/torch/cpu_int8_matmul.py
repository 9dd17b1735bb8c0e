#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""PyTorch's CPU INT8 matmul (torch._int_mm, int8 x int8 -> int32, oneDNN) next to its float
matmul, at the shapes bench/cpu measures for spikequant's reference INT8 GEMM, so
docs/comparison.md can put both libraries' int8 speed beside their own float baseline.

    python3 bench/torch/cpu_int8_matmul.py [--threads 1] [--reps 20]

Prints one line per (M, N, K): median seconds and GOPS of _int_mm and of float32 matmul, and
their ratio (float time / int8 time: > 1 means int8 is faster), plus the ISA oneDNN reports.
Single-threaded by default, like spikequant's CPU GEMM. Needs: pip install torch.
"""
import argparse
import statistics
import time

import torch

SHAPES = [(16, 4096, 4096), (16, 11008, 4096), (128, 4096, 4096), (128, 11008, 4096),
          (256, 172, 64), (256, 64, 172)]


def median_seconds(fn, reps):
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
    print(f"{'M, N, K':>18} {'int8 s':>10} {'int8 GOPS':>10} {'f32 s':>10} {'f32 GFLOPS':>10} {'f32/int8':>9}")
    for m, n, k in SHAPES:
        a = torch.randint(-127, 128, (m, k), dtype=torch.int8)
        w = torch.randint(-127, 128, (n, k), dtype=torch.int8)  # (N, K) row-major, as ours
        wt = w.t()  # _int_mm wants (K, N); a transposed view, no copy
        af, wtf = a.float(), w.float().t()
        t_i8 = median_seconds(lambda: torch._int_mm(a, wt), args.reps)
        t_f32 = median_seconds(lambda: af @ wtf, args.reps)
        ops = 2.0 * m * n * k
        print(f"{str((m, n, k)):>18} {t_i8:10.2e} {ops / t_i8 / 1e9:10.1f} {t_f32:10.2e} "
              f"{ops / t_f32 / 1e9:10.1f} {t_f32 / t_i8:9.2f}")


if __name__ == "__main__":
    main()
