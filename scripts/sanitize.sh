#!/usr/bin/env bash
# Builds the core, the C ABI and their tests with AddressSanitizer and UndefinedBehaviorSanitizer
# (LeakSanitizer on) in build-sanitize/, and runs the GoogleTest suites and the C99 program
# there. CI runs it after scripts/test.sh; run it after scripts/setup.sh:
#
#   scripts/sanitize.sh
#
# The host code is instrumented (gcc's -fsanitize through Meson's b_sanitize, also passed to the
# host compiler of the .cu files); device code is not (compute-sanitizer checks it on a GPU:
# bundle/sanitize.sh). Without a GPU the suites run their CPU paths (argument validation, the
# no-device errors, the caches, the C ABI's size tags and statuses) and skip the GPU tests;
# with CUDAGO_REQUIRE_GPU=1 on a GPU machine they run everything.
#
# Any sanitizer report fails the run (halt_on_error, exitcode 23). Leaks of libraries outside
# cudago that cannot be fixed here are listed, each with its reason, in
# tests/sanitize/lsan.supp; nothing else is suppressed.
#
# The last line is the summary, as scripts/test.sh prints it:
#   sanitize: N passed, M failed, K skipped
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build="$root/build-sanitize"
script=sanitize.sh
summary=sanitize
# shellcheck source=scripts/lib/steps.sh
source "$root/scripts/lib/steps.sh"

if ! command -v nvcc >/dev/null 2>&1; then
  export PATH="${CUDA_PATH:-/usr/local/cuda}/bin:$PATH"
fi
for tool in nvcc meson ninja; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run scripts/setup.sh"
done

sanitizers=address,undefined
# One architecture is enough for host-side checks and keeps the build short.
opts=("-Db_sanitize=$sanitizers" "-Dvenv=${CUDAGO_VENV:-/opt/cudago-venv}" -Db_lundef=false -Dbuildtype=debugoptimized -Dtests=true
  -Dgpu_sm=90 -Dgpu_ptx=
  "-Dcuda_args=['-Xcompiler=-fsanitize=address', '-Xcompiler=-fsanitize=undefined', '-Xcompiler=-fno-omit-frame-pointer']")

meson_build "$build" "${opts[@]}"

# protect_shadow_gap=0: the CUDA driver maps memory where ASan's shadow gap would be.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=23:protect_shadow_gap=0:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=23"
export LSAN_OPTIONS="suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0"

# run_gtest NAME [PATH]: runs one GoogleTest suite (tests/NAME, or tests/PATH) and adds its counts.
run_gtest() {
  local name=$1 exe="$build/tests/${2:-$1}" rc=0
  step "$name (sanitized)"
  "$exe" --gtest_brief=1 --gtest_output="json:$work/$name.json" >"$work/$name.log" 2>&1 || rc=$?
  if [ -s "$work/$name.json" ]; then
    read -r p f s < <(python3 - "$work/$name.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
p = f = s = 0
for suite in d.get("testsuites", []):
    for t in suite.get("testsuite", []):
        if t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
            s += 1
        elif t.get("failures"):
            f += 1
        else:
            p += 1
print(p, f, s)
EOF
    )
    add "$p $f $s"
  fi
  if [ "$rc" -ne 0 ]; then
    grep -nE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY:' "$work/$name.log" | head -n 20 >&2 || true
    die "$name exited with status $rc under the sanitizers" "$work/$name.log"
  fi
}

# The proof that this build can fail: each defect of the canary must stop it with its report
# (a harness that cannot fail proves nothing).
step "sanitize_canary: every planted defect is reported"
# (UBSan's object-size check may see the overflow before ASan does.)
for c in "heap-overflow:heap-buffer-overflow|insufficient space for an object" "use-after-free:heap-use-after-free" \
  "leak:detected memory leaks" "shift:shift exponent" "null-member:member access within null pointer"; do
  mode=${c%%:*}
  want=${c#*:}
  rc=0
  "$build/tests/sanitize_canary" "$mode" >"$work/canary-$mode.log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ] || ! grep -qE "$want" "$work/canary-$mode.log"; then
    die "the sanitizer build did not report the canary's $mode (exit $rc, wanted \"$want\")" \
      "$work/canary-$mode.log"
  fi
  add "1 0 0"
done

run_gtest core_test
run_gtest capi_test
# The CNN runtime and the server on the CPU (their GPU tests skip): the loader on bad models,
# the reference executor against onnxruntime, the batcher's threads (a use after free in its
# deadline thread was found by capi_fuzz before this ran here).
CUDAGO_MODELS_DIR="$build/tests/nn/models" run_gtest nn_test nn/nn_test

step "abi_c99 (sanitized)"
rc=0
"$build/tests/c99/abi_c99" >"$work/c99.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
  die "abi_c99 exited with status $rc under the sanitizers" "$work/c99.log"
fi
read -r p f s < <(sed -nE 's/^c99: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/p' "$work/c99.log")
add "${p:-0} ${f:-0} ${s:-0}"
echo "sanitize.sh: no sanitizer report"
