#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# The one command for whoever holds a GPU: runs the CUDA tests (as `ctest -L gpu` would, plus
# the host-only CUDA checks), runs them again under compute-sanitizer memcheck, racecheck and
# synccheck, runs every CUDA benchmark into JSON, and writes OUTDIR/report.md and .json.
#
#   scripts/gpu-check.sh OUTDIR                  # configure + build here, then run
#   scripts/gpu-check.sh OUTDIR PREBUILT_DIR     # run binaries made by scripts/gpu-prebuild.sh
#
# Building needs CMake, nvcc and doctest / Google Benchmark / Eigen; the architecture comes from
# $SPIKEQUANT_CUDA_ARCH or nvidia-smi's compute capability (9.0 -> 90a). A PREBUILT_DIR carries
# its own non-system libraries in PREBUILT_DIR/lib; cuBLAS(Lt) come from this machine's toolkit.
# Knobs: SPIKEQUANT_MEMCHECK=0 skips compute-sanitizer; SPIKEQUANT_SANITIZER_TOOLS picks its tools
# (default "memcheck racecheck synccheck"); SPIKEQUANT_BENCH_ARGS adds benchmark flags (e.g.
# --benchmark_filter=QuantizeRows); SPIKEQUANT_BENCH=0 skips benchmarks; SPIKEQUANT_STEP_TIMEOUT
# (s, default 300) bounds each program (keep the whole run inside the device tool's 600 s).
# Exit status: non-zero when a test, a compute-sanitizer run or the CUDA example fails (benchmark
# failures are reported but do not fail the check). Without a GPU: tests "skipped", benchmarks
# "no device", exit 0.
set -uo pipefail
out=${1:?usage: scripts/gpu-check.sh OUTDIR [PREBUILT_BUILD_DIR]}
prebuilt=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
step_timeout=${SPIKEQUANT_STEP_TIMEOUT:-300}
results="$out/results.tsv"  # kind \t name \t status \t seconds \t log
: > "$results"
commands="$out/commands.txt"
: > "$commands"
say() { printf '== %s\n' "$*"; }
record_cmd() { printf '%s\n' "$*" >> "$commands"; }

# ---- device -----------------------------------------------------------------------------------
gpu_name="none"
gpu_cc=""
if command -v nvidia-smi >/dev/null 2>&1; then
  q=$(nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader 2>/dev/null | head -n1)
  if [[ -n "$q" ]]; then
    gpu_name=$q
    gpu_cc=$(printf '%s' "$q" | awk -F', ' '{print $2}')
  fi
fi
say "device: $gpu_name"

# ---- build (unless prebuilt) ------------------------------------------------------------------
if [[ -z "$prebuilt" ]]; then
  arch=${SPIKEQUANT_CUDA_ARCH:-}
  if [[ -z "$arch" && -n "$gpu_cc" ]]; then
    major=${gpu_cc%%.*}
    minor=${gpu_cc#*.}
    arch="${major}${minor}"
    if ((major >= 9)); then arch="${arch}a"; fi
  fi
  arch=${arch:-80;90a}
  prebuilt="$root/build-gpu-check"
  say "building for CUDA architectures $arch into $prebuilt"
  record_cmd "SPIKEQUANT_CUDA_ARCH='$arch' scripts/gpu-prebuild.sh $prebuilt"
  if ! SPIKEQUANT_CUDA_ARCH="$arch" SPIKEQUANT_JOBS="${SPIKEQUANT_JOBS:-$(nproc)}" \
      "$root/scripts/gpu-prebuild.sh" "$prebuilt" > "$out/logs/build.log" 2>&1; then
    tail -n 40 "$out/logs/build.log"
    printf 'build\tgpu-prebuild.sh\tfailed\t0\tlogs/build.log\n' >> "$results"
    say "build failed (see $out/logs/build.log)"
  fi
fi
prebuilt=$(cd "$prebuilt" && pwd)

# ---- libraries --------------------------------------------------------------------------------
cuda_libs=""
for nv in "$(command -v nvcc 2>/dev/null)" /usr/local/cuda/bin/nvcc; do
  if [[ -n "$nv" && -x "$nv" ]]; then
    base=$(cd "$(dirname "$nv")/.." && pwd)
    for d in "$base/lib64" "$base/lib" "$base/targets/x86_64-linux/lib" "$base/targets/sbsa-linux/lib"; do
      [[ -d "$d" ]] && cuda_libs="$cuda_libs:$d"
    done
  fi
done
export LD_LIBRARY_PATH="$prebuilt/lib${cuda_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
record_cmd "export LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

sanitizer=$(command -v compute-sanitizer 2>/dev/null || true)
if [[ -z "$sanitizer" && -n "$(command -v nvcc 2>/dev/null)" ]]; then
  cand="$(dirname "$(command -v nvcc)")/compute-sanitizer"
  [[ -x "$cand" ]] && sanitizer=$cand
fi

# run KIND NAME LOG CMD...: runs CMD with a timeout, records status from the exit code
# (0 passed, 77 skipped, anything else failed; benchmarks print "no CUDA device" when skipped).
run() {
  local kind=$1 name=$2 log=$3
  shift 3
  record_cmd "$*"
  local t0 t1 rc status
  t0=$(date +%s%N)
  timeout "$step_timeout" "$@" > "$out/$log" 2>&1
  rc=$?
  t1=$(date +%s%N)
  if ldd "$1" 2>/dev/null | grep -q 'not found'; then
    ldd "$1" | grep 'not found' >> "$out/$log"
  fi
  case $rc in
    0) status=passed ;;
    77) status=skipped ;;
    124) status="failed (timeout ${step_timeout}s)" ;;
    *) status="failed (exit $rc)" ;;
  esac
  if [[ $kind == bench && $rc == 0 ]]; then
    if grep -q 'no CUDA device' "$out/$log"; then status="no device"; else status=ok; fi
  fi
  if [[ $kind == example && $rc == 0 ]] && grep -q 'no CUDA device' "$out/$log"; then
    status=skipped
  fi
  local ms=$(((t1 - t0) / 1000000))
  printf '%s\t%s\t%s\t%d.%01d\t%s\n' "$kind" "$name" "$status" $((ms / 1000)) $((ms % 1000 / 100)) "$log" >> "$results"
  printf '   %-9s %-40s %s\n' "$kind" "$name" "$status"
}

# ---- tests ------------------------------------------------------------------------------------
say "tests"
shopt -s nullglob
for bin in "$prebuilt"/bin/test/*; do
  [[ -f "$bin" && -x "$bin" ]] || continue
  name=$(basename "$bin")
  run test "$name" "logs/test_$name.log" "$bin"
done

# ---- compute-sanitizer: memcheck, racecheck (shared-memory hazards), synccheck (barriers) ------
# Each tool runs every test that passed plainly; its status kind is the tool's name.
sanitizer_tools=${SPIKEQUANT_SANITIZER_TOOLS:-memcheck racecheck synccheck}
if [[ "${SPIKEQUANT_MEMCHECK:-1}" != 0 && -n "$sanitizer" && "$gpu_name" != none ]]; then
  for tool in $sanitizer_tools; do
    say "compute-sanitizer $tool"
    while IFS=$'\t' read -r kind name status _ _; do
      [[ $kind == test && $status == passed ]] || continue
      run "$tool" "$name" "logs/${tool}_$name.log" \
        "$sanitizer" --tool "$tool" --error-exitcode 86 --print-limit 20 "$prebuilt/bin/test/$name"
    done < <(cat "$results")
  done
else
  say "compute-sanitizer not run (no device, no compute-sanitizer, or SPIKEQUANT_MEMCHECK=0)"
fi

# ---- examples ---------------------------------------------------------------------------------
for bin in "$prebuilt"/bin/examples/*; do
  [[ -f "$bin" && -x "$bin" ]] || continue
  run example "$(basename "$bin")" "logs/example_$(basename "$bin").log" "$bin"
done

# ---- benchmarks -------------------------------------------------------------------------------
say "benchmarks"
jsons=()
[[ "${SPIKEQUANT_BENCH:-1}" == 0 ]] && say "benchmarks not run (SPIKEQUANT_BENCH=0)"
for bin in "$prebuilt"/bin/bench/*; do
  [[ "${SPIKEQUANT_BENCH:-1}" == 0 ]] && break
  [[ -f "$bin" && -x "$bin" && "$bin" != *.py ]] || continue
  name=$(basename "$bin")
  # shellcheck disable=SC2086
  run bench "$name" "logs/bench_$name.log" "$bin" --benchmark_out="$out/$name.json" \
    --benchmark_out_format=json ${SPIKEQUANT_BENCH_ARGS:-}
  jsons+=("$out/$name.json")
done
summary_py="$root/bench/cuda/summary.py"
[[ -f "$summary_py" ]] || summary_py="$prebuilt/bin/bench/summary.py"
python3 "$summary_py" "${jsons[@]}" --json "$out/summary.json" > "$out/summary.md" 2>&1 ||
  echo "summary.py failed" >> "$out/summary.md"

# ---- report -----------------------------------------------------------------------------------
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || cat "$prebuilt/COMMIT" 2>/dev/null || echo unknown)
GPU_NAME="$gpu_name" COMMIT="$commit" PREBUILT="$prebuilt" OUT="$out" python3 - <<'PY'
import datetime, json, os
out = os.environ["OUT"]
rows = []
with open(os.path.join(out, "results.tsv"), encoding="utf-8") as f:
    for line in f:
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 5:
            rows.append(dict(zip(("kind", "name", "status", "seconds", "log"), parts)))
with open(os.path.join(out, "commands.txt"), encoding="utf-8") as f:
    commands = [c for c in f.read().splitlines() if c]
summary_md = open(os.path.join(out, "summary.md"), encoding="utf-8").read()
try:
    summary = json.load(open(os.path.join(out, "summary.json"), encoding="utf-8"))
except (OSError, ValueError):
    summary = None
# Every kind fails the check (test, build, example, each compute-sanitizer tool) but benchmarks.
bad = [r for r in rows if r["kind"] != "bench" and r["status"].startswith("failed")]
report = {
    "device": os.environ["GPU_NAME"],
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "commit": os.environ["COMMIT"],
    "build_dir": os.environ["PREBUILT"],
    "commands": commands,
    "results": rows,
    "ok": not bad,
    "summary": summary,
}
# Without a device every GPU program skips: say so rather than a bare PASSED.
skipped = [r for r in rows if r["status"].startswith("skipped") or r["status"] == "no device"]
if bad:
    result = "FAILED: " + ", ".join(r["kind"] + " " + r["name"] for r in bad)
elif report["device"] == "none":
    result = f"NO GPU: host tests passed, {len(skipped)} GPU programs skipped (nothing measured)"
else:
    result = "PASSED"
report["result"] = result
json.dump(report, open(os.path.join(out, "report.json"), "w", encoding="utf-8"), indent=2)
md = [
    "# spikequant GPU check",
    "",
    f"- device: {report['device']}",
    f"- date: {report['date']}",
    f"- commit: {report['commit']}",
    f"- build: {report['build_dir']}",
    f"- result: {result}",
    "",
    "## Results",
    "",
    "| kind | program | status | seconds | log |",
    "|---|---|---|---:|---|",
]
md += [f"| {r['kind']} | {r['name']} | {r['status']} | {r['seconds']} | {r['log']} |" for r in rows]
md += ["", "## Benchmarks", "", summary_md, "", "## Commands", "", "```"] + commands + ["```", ""]
open(os.path.join(out, "report.md"), "w", encoding="utf-8").write("\n".join(md))
print("\n".join(md[:8]))
PY
if awk -F'\t' '$1 != "bench" && $3 ~ /^failed/ {f=1} END {exit !f}' "$results"; then
  say "FAILED (see $out/report.md)"
  exit 1
fi
say "done: $out/report.md"
exit 0
