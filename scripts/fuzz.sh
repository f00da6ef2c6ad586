#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ with clang-14 (AddressSanitizer, UndefinedBehavior-
# Sanitizer, LeakSanitizer; the core and the C ABI instrumented for coverage) in build-fuzz/, and
# runs each for a bounded time, starting from its corpus in fuzz/corpus/<name>/ (the harness is
# <name>_fuzz; the corpus is copied: the run never writes into the repository). CI runs it after
# scripts/sanitize.sh; run it after scripts/setup.sh:
#
#   scripts/fuzz.sh                 # every harness, FUZZ_SECONDS (default 60) each
#   scripts/fuzz.sh rtc_cache_fuzz  # one harness
#   FUZZ_SECONDS=600 scripts/fuzz.sh capi_fuzz
#
# A crash, a sanitizer report, a harness assertion, a leak, a timeout of one input
# (FUZZ_INPUT_TIMEOUT_S, default 25 s) or an allocation over 2 GiB fails the run; the input that
# did it is kept in fuzz-findings/ (ignored by git) and its path printed: reproduce with
#   build-fuzz/fuzz/<harness> fuzz-findings/<file>
# New corpus entries of a long local run can be merged into the repository's corpus with
#   build-fuzz/fuzz/<name>_fuzz -merge=1 fuzz/corpus/<name> <the run's corpus folder>
# (keep the files small: the corpus lives in git).
#
# The last line is the summary, as scripts/test.sh prints it:
#   fuzz: N passed, M failed, 0 skipped
# and one line per harness before it: "<harness>: N executions in S s (E/s), corpus C files".
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build="$root/build-fuzz"
findings="$root/fuzz-findings"
script=fuzz.sh
summary=fuzz
# shellcheck source=scripts/lib/steps.sh
source "$root/scripts/lib/steps.sh"

if ! command -v nvcc >/dev/null 2>&1; then
  export PATH="${CUDA_PATH:-/usr/local/cuda}/bin:$PATH"
fi
for tool in nvcc meson ninja clang-14 clang++-14; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run scripts/setup.sh"
done

seconds=${FUZZ_SECONDS:-60}
input_timeout=${FUZZ_INPUT_TIMEOUT_S:-25}
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then harnesses=(capi_fuzz rtc_fuzz rtc_cache_fuzz onnx_fuzz); fi

san=address,undefined
flags="-fsanitize=fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
opts=("-Db_sanitize=$san" -Db_lundef=false -Dbuildtype=debugoptimized -Dtests=false -Dfuzz=true
  -Dgpu_sm=90 -Dgpu_ptx= "-Dc_args=$flags" "-Dcpp_args=$flags"
  "-Dcuda_args=['-ccbin=clang++-14', '-Xcompiler=-fsanitize=address', '-Xcompiler=-fsanitize=undefined', '-Xcompiler=-fsanitize=fuzzer-no-link', '-Xcompiler=-fno-omit-frame-pointer']")

CC=clang-14 CXX=clang++-14 meson_build "$build" "${opts[@]}"

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:protect_shadow_gap=0:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0"
# The harnesses run without a GPU (the GPU paths are the bundle's): hide any, so that a run on a
# GPU machine exercises the same paths as CI.
export CUDA_VISIBLE_DEVICES=""
mkdir -p "$findings"

# The proof that the build can fail: the canary's planted heap overflow must be found and reported.
step "canary_fuzz: the planted defect is found"
rc=0
"$build/fuzz/canary_fuzz" -max_total_time=120 -artifact_prefix="$work/canary-" \
  >"$work/canary.log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] || ! grep -q "heap-buffer-overflow" "$work/canary.log"; then
  die "libFuzzer and AddressSanitizer did not find the canary's planted overflow (exit $rc)" \
    "$work/canary.log"
fi
echo "canary_fuzz: found after $(sed -nE 's/^#([0-9]+).*/\1/p' "$work/canary.log" | tail -n 1) executions"
passed=$((passed + 1))

for h in "${harnesses[@]}"; do
  exe="$build/fuzz/$h"
  [ -x "$exe" ] || die "no harness $h in $build/fuzz"
  step "$h for ${seconds}s"
  corpus="$work/corpus-$h"
  mkdir -p "$corpus"
  if [ -d "fuzz/corpus/${h%_fuzz}" ]; then cp -r "fuzz/corpus/${h%_fuzz}/." "$corpus/"; fi
  rc=0
  # One process (no -jobs): CI has two cores and the build is done. -rss_limit_mb and
  # -malloc_limit_mb catch allocations sized by a bogus number.
  "$exe" -max_total_time="$seconds" -timeout="$input_timeout" -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/$h-" \
    "$corpus" >"$work/$h.log" 2>&1 || rc=$?
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/$h.log" | tail -n 1)
  took=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$work/$h.log" | tail -n 1)
  files=$(find "$corpus" -type f | wc -l)
  rate=$(((${runs:-0}) / (${took:-1} > 0 ? ${took:-1} : 1)))
  echo "$h: ${runs:-?} executions in ${took:-?} s (${rate}/s), corpus $files files"
  # What a harness says it reached (its own "<harness>: ..." lines at exit).
  grep -E "^$h: " "$work/$h.log" | tail -n 3 || true
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    grep -nE 'ERROR: |runtime error:|SUMMARY:|Test unit written to|==[0-9]+==' "$work/$h.log" | head -n 20 >&2 || true
    die "$h found a failure (exit status $rc); the input is in $findings/" "$work/$h.log"
  fi
  passed=$((passed + 1))
done
echo "fuzz.sh: no finding"
