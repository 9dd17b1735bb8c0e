#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Offline static checks of the CUDA kernels for sm_80 and sm_90a; no GPU needed.

Compiles test/static/sass_kernels.cu (every kernel the library launches) once with
`nvcc -Xptxas -v`, reads ptxas' resource lines, `cuobjdump -res-usage` and the SASS
(`cuobjdump -sass`), runs the program for the host-side claims (block size, dynamic shared
memory), and holds each kernel to test/static/sass_budgets.json: no stack, local memory or
spills; registers and shared memory within the budget and the occupancy the tile policy
states; the expected opcodes (IMMA / HMMA, LDSM, LDGSTS) present and forbidden ones absent.
Every kernel must match exactly one budget entry and every entry some kernel.

  scripts/sass-check.py                  # build into build-sass/, check, print the table
  scripts/sass-check.py --no-build       # check the existing build-sass/ outputs again

cuobjdump and the nvdisasm it runs for -sass: $SPIKEQUANT_CUOBJDUMP / $NVDISASM, else PATH or
the CUDA toolkit's bin/, else the PyPI packages nvidia-cuda-cuobjdump and nvidia-cuda-nvdisasm,
installed into ~/.cache/spikequant/venv-sass here on first use.
Exit status: 0 all checks pass, 1 a check failed, 2 a tool failed, 77 no nvcc (skipped).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# cuobjdump -sass runs nvdisasm; neither is in every toolkit install (not in this one's bin/).
CUDA_BINUTILS = ["nvidia-cuda-cuobjdump==13.5.37", "nvidia-cuda-nvdisasm==13.5.37"]
VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "spikequant" / "venv-sass"
# The project's CUDA flags (cmake/SpikequantDev.cmake) plus Release's -O3 -DNDEBUG.
NVCC_FLAGS = [
    "-std=c++20",
    "--expt-relaxed-constexpr",
    "-Xcudafe=--diag_suppress=20012",
    "-lineinfo",
    "-O3",
    "-DNDEBUG",
]


def die(msg, code=2):
    print(f"sass-check: {msg}", file=sys.stderr)
    sys.exit(code)


def find_tool(name, env):
    if os.environ.get(env):
        return os.environ[env]
    found = shutil.which(name)
    if found:
        return found
    cuda = Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "bin" / name
    return str(cuda) if cuda.exists() else None


def cuda_binutils():
    """(cuobjdump, env) where env's PATH has the nvdisasm that `cuobjdump -sass` runs."""
    cuobjdump, nvdisasm = find_tool("cuobjdump", "SPIKEQUANT_CUOBJDUMP"), find_tool(
        "nvdisasm", "NVDISASM"
    )
    if not (cuobjdump and nvdisasm):

        def venv_tool(name):
            return next(VENV.glob(f"lib/python*/site-packages/nvidia/cu*/bin/{name}"), None)

        if not (venv_tool("cuobjdump") and venv_tool("nvdisasm")):
            print(f"== installing {' '.join(CUDA_BINUTILS)} into {VENV}", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *CUDA_BINUTILS], check=True)
        cuobjdump, nvdisasm = venv_tool("cuobjdump"), venv_tool("nvdisasm")
        if not (cuobjdump and nvdisasm):
            die(f"{' '.join(CUDA_BINUTILS)} installed no cuobjdump / nvdisasm under {VENV}")
    env = dict(os.environ, PATH=f"{Path(nvdisasm).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return str(cuobjdump), env


def run_tool(cmd, env=None):
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        print(res.stderr[-4000:], file=sys.stderr)
        die(f"{' '.join(cmd)} failed (exit {res.returncode})")
    return res.stdout


def needs_build(binary, source, cmd):
    stamp = binary.with_suffix(".cmd")
    if not binary.exists() or not stamp.exists() or stamp.read_text() != " ".join(cmd):
        return True
    built = binary.stat().st_mtime
    inputs = [source, *(ROOT / "include").rglob("*")]
    return any(p.is_file() and p.stat().st_mtime > built for p in inputs)


def nvcc_command(nvcc, arches, binary, source):
    cmd = [nvcc, *NVCC_FLAGS, f"-I{ROOT / 'include'}"]
    for arch in arches.values():
        cmd += ["-gencode", arch["gencode"]]
    return cmd + ["-Xptxas", "-v", "-o", str(binary), str(source)]


def build(cmd, out, binary):
    print("== " + " ".join(cmd), flush=True)
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    (out / "ptxas.log").write_text(res.stdout + res.stderr)
    if res.returncode != 0:
        print(res.stderr[-4000:], file=sys.stderr)
        die("nvcc failed")
    binary.with_suffix(".cmd").write_text(" ".join(cmd))
    print(f"   built in {time.time() - t0:.0f} s", flush=True)


def parse_ptxas(text):
    """(arch, mangled) -> {"registers", "stack", "spill_stores", "spill_loads", "smem", "lmem"}."""
    info, fn, arch = {}, None, None
    for line in text.splitlines():
        m = re.search(r"Compiling entry function '(\S+)' for '(\w+)'", line)
        if m:
            fn, arch = m.group(1), m.group(2)
            info[(arch, fn)] = {"smem": 0, "lmem": 0}
            continue
        if fn is None:
            continue
        m = re.search(
            r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line
        )
        if m:
            info[(arch, fn)].update(stack=int(m[1]), spill_stores=int(m[2]), spill_loads=int(m[3]))
        m = re.search(r"Used (\d+) registers", line)
        if m:
            entry = info[(arch, fn)]
            entry["registers"] = int(m[1])
            for value, kind in re.findall(r"(\d+) bytes (smem|lmem)", line):
                entry[kind] = int(value)
    return info


def parse_res_usage(text):
    """(arch, mangled) -> {"REG", "STACK", "SHARED", "LOCAL", ...} from cuobjdump -res-usage."""
    usage, arch, fn = {}, None, None
    for line in text.splitlines():
        m = re.match(r"\s*arch = (\S+)", line)
        if m:
            arch = m.group(1)
        m = re.match(r"\s*Function (\S+):\s*$", line)
        if m:
            fn = m.group(1)
            continue
        if fn and "REG:" in line:
            usage[(arch, fn)] = {k: int(v) for k, v in re.findall(r"(\w+(?:\[\d+\])?):(\d+)", line)}
            fn = None
    return usage


def parse_sass(text):
    """(arch, mangled) -> Counter of full opcodes (with modifiers, without predicates)."""
    ops, arch, fn = defaultdict(Counter), None, None
    insn = re.compile(r"\s*/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P[T0-9]+\s+)?([A-Z][A-Z0-9_.]*)")
    for line in text.splitlines():
        m = re.match(r"\s*arch = (\S+)", line)
        if m:
            arch = m.group(1)
            continue
        m = re.match(r"\s*Function : (\S+)", line)
        if m:
            fn = (arch, m.group(1))
            continue
        m = insn.match(line)
        if m and fn:
            ops[fn][m.group(1)] += 1
    return ops


def count(ops, key):
    """Instructions whose opcode is `key` or starts with `key.` (IMMA matches IMMA.16832.S8.S8)."""
    return sum(n for op, n in ops.items() if op == key or op.startswith(key + "."))


def demangle(names):
    cxxfilt = shutil.which("c++filt") or die("c++filt (binutils) not found")
    res = subprocess.run(
        [cxxfilt], input="\n".join(names), capture_output=True, text=True, check=True
    )
    return dict(zip(names, res.stdout.splitlines()))


def short_name(demangled):
    s = re.sub(r"spikequant::v0::(cuda::)?(kernel::|activation::|detail::)?", "", demangled)
    s = s.split(">(")[0] + ">"  # drop the parameter list
    return re.sub(r"^void ", "", s)


def blocks_per_sm(arch, regs, threads, smem):
    """Resident blocks per SM from registers, shared memory and threads (occupancy calculator)."""
    warps = -(-threads // 32)
    unit = arch["reg_alloc_unit"]
    regs_per_warp = -(-regs * 32 // unit) * unit
    # The register file is split between 4 SM sub-partitions; a warp lives in one of them.
    by_regs = (
        4 * (arch["regs_per_sm"] // 4 // regs_per_warp) // warps
        if regs
        else arch["max_blocks_per_sm"]
    )
    by_smem = arch["smem_per_sm"] // (smem + arch["smem_reserved_per_block"])
    by_threads = arch["max_threads_per_sm"] // threads
    return min(by_regs, by_smem, by_threads, arch["max_blocks_per_sm"]), by_regs, by_smem


def check_local_memory(where, p, u, ops, allow, forbidden, errors, notes):
    """Stack frame, spills, lmem, LDL / STL: 0 unless a local_memory_exceptions entry allows."""
    local = {
        "stack frame": (p["stack"], allow["stack"]),
        "spill stores": (p["spill_stores"], allow["spill"]),
        "spill loads": (p["spill_loads"], allow["spill"]),
        "lmem": (p["lmem"], allow["stack"]),
        "cuobjdump STACK": (u.get("STACK", 0), allow["stack"]),
        "cuobjdump LOCAL": (u.get("LOCAL", 0), allow["stack"]),
    }
    if not allow["stack"]:
        local.update({f"{op} instructions": (count(ops, op), 0) for op in forbidden})
    over = [f"{v} {what} (allowed {limit})" for what, (v, limit) in local.items() if v > limit]
    if over:
        errors.append(f"{where}: local memory: {', '.join(over)}")
    elif allow["stack"] and p["stack"] == 0 and p["spill_stores"] == 0:
        notes.append(f"{where}: its local-memory exception is no longer needed: remove it")
    elif allow["stack"]:
        notes.append(
            f"{where}: {p['stack']} B stack, {p['spill_stores']}/{p['spill_loads']} B spill "
            "stores/loads allowed by a local_memory_exceptions entry"
        )


def check_kernel(where, arch_name, arch, entry, claim, p, ops, errors):
    """Registers, shared memory, occupancy and opcodes of one kernel build; returns blocks/SM."""
    regs, threads, dyn = p["registers"], claim["threads"], claim["dynamic_smem"]
    smem = p["smem"] + dyn
    static_limit = entry.get("max_static_smem", 0)
    checks = [
        (regs > entry["max_registers"], f"{regs} registers > budget {entry['max_registers']}"),
        (
            regs * threads > arch["regs_per_sm"],
            f"{regs} registers x {threads} threads > {arch['regs_per_sm']}",
        ),
        (threads != entry["threads"], f"{threads} threads, budget says {entry['threads']}"),
        (
            dyn != entry["dynamic_smem"],
            f"kernel claims {dyn} B dynamic shared memory, budget says {entry['dynamic_smem']}",
        ),
        (p["smem"] > static_limit, f"{p['smem']} B static shared memory > {static_limit}"),
        (
            smem > arch["smem_per_block"],
            f"{smem} B shared memory > {arch['smem_per_block']} per block",
        ),
    ]
    blocks, by_regs, by_smem = blocks_per_sm(arch, regs, threads, smem)
    want = entry["min_blocks_per_sm"][arch_name]
    checks.append(
        (
            blocks < want,
            f"{blocks} blocks/SM (registers allow {by_regs}, shared memory {by_smem}) "
            f"< {want} the budget states",
        )
    )
    least = {**entry.get("sass_min", {}), **entry.get(f"sass_min_{arch_name}", {})}
    for op, n in least.items():
        checks.append((count(ops, op) < n, f"{count(ops, op)} {op} in SASS, expected >= {n}"))
    for op in entry.get("sass_forbidden", []):
        checks.append((count(ops, op) > 0, f"{count(ops, op)} {op} in SASS, expected none"))
    errors += [f"{where}: {msg}" for failed, msg in checks if failed]
    return blocks


def print_table(rows):
    print(
        f"\n{'arch':6} {'regs':>4} {'thr':>4} {'smem':>6} {'stack':>5} {'spill':>7} {'blk/SM':>6}"
    )
    for r in rows:
        ops = " ".join(f"{k}:{v}" for k, v in r["opcodes"].items())
        smem = r["static_smem"] + r["dynamic_smem"]
        print(
            f"{r['arch']:6} {r['registers']:4} {r['threads']:4} {smem:6} {r['stack']:5} "
            f"{r['spill_stores']:3}/{r['spill_loads']:<3} {r['blocks_per_sm']:6}  {r['kernel']}  {ops}"
        )


def print_failures(errors):
    """One line per failure; a message shared by more than 3 kernels is printed once."""
    by_msg = defaultdict(list)
    for e in errors:
        where, _, msg = e.partition(": ")
        by_msg[msg if msg else where].append(where if msg else "")
    for msg, wheres in by_msg.items():
        if len(wheres) > 3:
            print(f"FAIL: {msg} ({len(wheres)} kernels, e.g. {wheres[0]}; {wheres[-1]})")
        else:
            for where in wheres:
                print(f"FAIL: {where}: {msg}" if where else f"FAIL: {msg}")


def check(args):
    budgets = json.loads(Path(args.budgets).read_text())
    arches = budgets["arches"]
    out = Path(args.build_dir)
    out.mkdir(parents=True, exist_ok=True)
    source = ROOT / "test" / "static" / "sass_kernels.cu"
    binary = out / "sass_kernels"

    if not args.no_build:
        nvcc = find_tool("nvcc", "SPIKEQUANT_NVCC")
        if nvcc is None:
            print("sass-check: skipped (no nvcc)")
            sys.exit(77)
        cmd = nvcc_command(nvcc, arches, binary, source)
        if needs_build(binary, source, cmd):
            build(cmd, out, binary)
        else:
            print(f"== {binary} is newer than its sources: not rebuilt", flush=True)
    if not binary.exists():
        die(f"{binary} missing (run without --no-build)")
    cuobjdump, env = cuda_binutils()
    print(f"== {cuobjdump} -res-usage / -sass {binary}", flush=True)
    ptxas = parse_ptxas((out / "ptxas.log").read_text())
    usage = parse_res_usage(run_tool([cuobjdump, "-res-usage", str(binary)], env))
    sass = parse_sass(run_tool([cuobjdump, "-sass", str(binary)], env))
    claims = json.loads(run_tool([str(binary)]))

    names = demangle(sorted({fn for _, fn in ptxas}))
    exceptions = budgets.get("local_memory_exceptions", [])
    errors, notes, rows = [], [], []
    used_entries, used_exceptions = Counter(), Counter()
    for arch_name, arch in arches.items():
        kernels = sorted(fn for a, fn in ptxas if a == arch_name)
        if not kernels:
            errors.append(f"{arch_name}: no kernels compiled")
        for fn in kernels:
            full, key = names[fn], (arch_name, fn)
            where = f"{arch_name} {short_name(full)}"
            matches = [e for e in budgets["kernels"] if re.search(e["match"], full)]
            if len(matches) != 1:
                which = ", ".join(e["name"] for e in matches) or "none"
                errors.append(f"{where}: matches {len(matches)} budget entries ({which}); needs 1")
                continue
            entry = matches[0]
            used_entries[entry["name"]] += 1
            p, u, ops = ptxas[key], usage.get(key), sass.get(key, Counter())
            if u is None:
                errors.append(f"{where}: not in cuobjdump -res-usage")
                u = {}
            elif u.get("REG") != p["registers"]:
                errors.append(
                    f"{where}: ptxas: {p['registers']} registers, cuobjdump: {u.get('REG')}"
                )
            allow = {"stack": 0, "spill": 0}
            for i, ex in enumerate(exceptions):
                if arch_name in ex["arches"] and re.search(ex["match"], full):
                    allow = {"stack": ex["max_stack_bytes"], "spill": ex["max_spill_bytes"]}
                    used_exceptions[i] += 1
            forbidden = budgets["all_kernels"]["forbidden_sass"]
            check_local_memory(where, p, u, ops, allow, forbidden, errors, notes)
            claim = claims[entry["claim"]]
            blocks = check_kernel(where, arch_name, arch, entry, claim, p, ops, errors)
            shown = {op: count(ops, op) for op in budgets["report_opcodes"] if count(ops, op)}
            rows.append(
                {
                    "arch": arch_name,
                    "kernel": short_name(full),
                    "budget": entry["name"],
                    "registers": p["registers"],
                    "threads": claim["threads"],
                    "static_smem": p["smem"],
                    "dynamic_smem": claim["dynamic_smem"],
                    "stack": p["stack"],
                    "spill_stores": p["spill_stores"],
                    "spill_loads": p["spill_loads"],
                    "blocks_per_sm": blocks,
                    "opcodes": shown,
                }
            )
    for entry in budgets["kernels"]:
        if used_entries[entry["name"]] == 0:
            errors.append(f"budget entry {entry['name']} matches no kernel (stale, or kernel gone)")
    for i, ex in enumerate(exceptions):
        if used_exceptions[i] == 0:
            notes.append(f"local-memory exception {ex['match']!r} matches no kernel: remove it")

    print_table(rows)
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report = {"date": date, "kernels": rows, "errors": errors, "notes": notes}
    (out / "sass-report.json").write_text(json.dumps(report, indent=1))
    for n in notes:
        print(f"note: {n}")
    print_failures(errors)
    print(
        f"\nsass-check: {len(rows)} kernel builds checked ({', '.join(arches)}), "
        f"{len(errors)} failures; report {out / 'sass-report.json'}"
    )
    return 1 if errors else 0


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--build-dir", default=str(ROOT / "build-sass"))
    ap.add_argument("--budgets", default=str(ROOT / "test" / "static" / "sass_budgets.json"))
    ap.add_argument("--no-build", action="store_true", help="reuse the build directory's outputs")
    sys.exit(check(ap.parse_args()))


if __name__ == "__main__":
    main()
