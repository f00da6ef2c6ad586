#!/usr/bin/env bash
# Builds cudago and runs every test: scripts/test-setup.sh (setup.sh's dry runs), the GoogleTest
# suites and the C99 ABI program (meson test), then gofmt, go vet (plain and with -tags gpu, which
# adds the Go examples that need a GPU), go test and go test -race for the Go module, bounded
# fuzzing (20 s) of each Go fuzz target of go/internal/capi and its soak test for 20 s, go vet
# (plain and -tags gpu), go build and go test for the Go examples, and the example HTTP server
# against the real Triton client (tests/serve/test_triton_client.py).
# Stops at the first failure with a message saying which step failed.
#
# The last line of output is always the summary:
#   tests: N passed, M failed, K skipped
# counting setup.sh's dry-run cases, GoogleTest cases, the C99 program's checks, Go tests
# (subtests included) and the Triton client's tests. A failing step that is not a test (build,
# gofmt, vet) counts as one failure.
#
# Environment: CUDAGO_REQUIRE_GPU=1 turns GPU skips into failures; CUDA_PATH (default
# /usr/local/cuda) locates nvcc when it is not on PATH.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build="$root/build"

script=test.sh
summary=tests
# shellcheck source=scripts/lib/steps.sh
source "$root/scripts/lib/steps.sh"

if ! command -v nvcc >/dev/null 2>&1; then
  export PATH="${CUDA_PATH:-/usr/local/cuda}/bin:$PATH"
fi
command -v nvcc >/dev/null 2>&1 || die "nvcc not found (install the CUDA toolkit or set CUDA_PATH); run scripts/setup.sh"
for tool in meson ninja go gofmt python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run scripts/setup.sh"
done
# Never download another Go toolchain behind the user's back.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
# The checkers scripts/setup.sh installs (promtool, the venv's prometheus_client) must run: the
# Go tests that use them fail instead of skipping.
export CUDAGO_REQUIRE_TOOLS=1

# ---- setup.sh's choices per distribution: dry runs on made-up os-release files -------------
step "scripts/test-setup.sh"
setup_rc=0
"$root/scripts/test-setup.sh" >"$work/setup-tests.log" 2>&1 || setup_rc=$?
setup_counts=$(sed -n 's/^setup-tests: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2 0/p' "$work/setup-tests.log")
add "${setup_counts:-0 1 0}"
[ "$setup_rc" -eq 0 ] || die "scripts/test-setup.sh" "$work/setup-tests.log"

# ---- build ----------------------------------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
  step "meson setup build"
  meson setup "$build" "-Dvenv=${CUDAGO_VENV:-/opt/cudago-venv}" >"$work/setup.log" 2>&1 ||
    die "meson setup build" "$work/setup.log"
fi
step "meson compile -C build"
meson compile -C "$build" >"$work/build.log" 2>&1 || die "build (meson compile -C build)" "$work/build.log"
if grep -q 'warning' "$work/build.log"; then
  grep -i 'warning' "$work/build.log" | head -n 20
fi

# ---- meson test: GoogleTest suites and the C99 program --------------------------------------
step "meson test -C build --print-errorlogs"
meson introspect --tests "$build" >"$work/tests.json"
# Meson asks each gtest suite for <name>.xml in the test's working directory; drop stale ones.
python3 - "$work/tests.json" "$build" <<'PY'
import json, os, sys
for t in json.load(open(sys.argv[1])):
    if t.get("protocol") == "gtest":
        path = os.path.join(t.get("workdir") or sys.argv[2], t["name"] + ".xml")
        if os.path.exists(path):
            os.remove(path)
PY
rm -f "$build/meson-logs/testlog.json"
test_rc=0
meson test -C "$build" --print-errorlogs || test_rc=$?

counts=$(python3 - "$work/tests.json" "$build" <<'PY'
import json, os, re, sys
import xml.etree.ElementTree as ET

tests, build = json.load(open(sys.argv[1])), sys.argv[2]
results = {}
log = os.path.join(build, "meson-logs", "testlog.json")
if os.path.exists(log):
    for line in open(log, encoding="utf8", errors="replace"):
        if line.strip():
            r = json.loads(line)
            results[r["name"]] = r
p = f = s = 0
for t in tests:
    name, r = t["name"], results.get(t["name"])
    if r is None:
        continue  # not run (filtered out)
    res = r.get("result", "")
    if t.get("protocol") == "gtest":
        path = os.path.join(t.get("workdir") or build, name + ".xml")
        try:
            cases = ET.parse(path).getroot().iter("testcase")
        except (OSError, ET.ParseError):
            cases = None
        if cases is not None:
            n = nf = 0
            for c in cases:
                n += 1
                if c.find("failure") is not None or c.find("error") is not None:
                    nf += 1
                elif (c.find("skipped") is not None or c.get("result") == "skipped"
                      or c.get("status") == "notrun"):
                    s += 1
                else:
                    p += 1
            if n:
                # A suite that failed (a crash, a leak check) with no failed case counts once.
                if res not in ("OK", "SKIP", "EXPECTEDFAIL") and nf == 0:
                    nf = 1
                f += nf
                continue
    else:
        m = re.search(r"^\S+: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$",
                      r.get("stdout") or "", re.M)
        if m:
            p, f, s = p + int(m[1]), f + int(m[2]), s + int(m[3] or 0)
            if res not in ("OK", "SKIP", "EXPECTEDFAIL") and int(m[2]) == 0:
                f += 1
            continue
    if res in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif res == "SKIP":
        s += 1
    else:
        f += 1
print(p, f, s)
PY
) || die "could not read the meson test results"
add "$counts"
[ "$test_rc" -eq 0 ] || die "meson test (GoogleTest suites / C99 program); see the logs above and $build/meson-logs/testlog.txt"

# ---- Go ---------------------------------------------------------------------------------------
# meson devenv puts the uninstalled cudago.pc on PKG_CONFIG_PATH and libcudago on
# LD_LIBRARY_PATH, so cgo builds and runs against this build.
in_devenv() {
  local dir=$1
  shift
  meson devenv -C "$build" --workdir "$root/$dir" "$@"
}

step "scripts/gen-status.py --check (go/internal/capi/status_table.go against cudago.h's status table)"
python3 "$root/scripts/gen-status.py" --check >"$work/gen-status.log" 2>&1 ||
  die "go/internal/capi/status_table.go is out of date" "$work/gen-status.log"

step "tests/bench/test_peers_compile.py (scripts/peers.py's torch.compile budget and settings, stand-ins for torch)"
python3 "$root/tests/bench/test_peers_compile.py" >"$work/peers-compile.log" 2>&1 ||
  die "tests/bench/test_peers_compile.py" "$work/peers-compile.log"

step "gofmt -l (go)"
in_devenv go gofmt -l . >"$work/gofmt.log" 2>&1 || die "gofmt -l go" "$work/gofmt.log"
if [ -s "$work/gofmt.log" ]; then
  echo "files that gofmt would change:" >&2
  cat "$work/gofmt.log" >&2
  die "gofmt -l go: run 'gofmt -w' on the files above"
fi

step "go vet ./... (go)"
in_devenv go go vet ./... >"$work/vet.log" 2>&1 || die "go vet ./... in go/" "$work/vet.log"

# The examples that need a GPU carry the gpu build tag (they run in the GPU bundle): vet them too,
# so they compile here.
step "go vet -tags gpu ./... (go)"
in_devenv go go vet -tags gpu ./... >"$work/vet-gpu.log" 2>&1 ||
  die "go vet -tags gpu ./... in go/" "$work/vet-gpu.log"

# go_test DIR TAG: go test -json over DIR's packages, counted like the GoogleTest cases.
go_test() {
  local dir=$1 tag=$2 go_rc=0 gocounts
  step "go test -count=1 ./... ($dir)"
  in_devenv "$dir" go test -count=1 -json ./... >"$work/gotest-$tag.json" 2>"$work/gotest-$tag.err" ||
    go_rc=$?
  gocounts=$(python3 - "$work/gotest-$tag.json" <<'PY'
import collections, json, sys

p = f = s = 0
output = collections.defaultdict(list)
failed, pkg_failed, pkg_lines = [], [], []
for line in open(sys.argv[1], encoding="utf8", errors="replace"):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    key = (ev.get("Package", ""), ev.get("Test"))
    act = ev.get("Action")
    if act == "output":
        output[key].append(ev.get("Output", ""))
    elif act in ("pass", "fail", "skip"):
        if key[1]:
            if act == "pass":
                p += 1
            elif act == "skip":
                s += 1
            else:
                f += 1
                failed.append(key)
        else:
            line = f"{act}\t{key[0]}"
            if ev.get("Elapsed") is not None:
                line += f"\t{ev['Elapsed']:.2f}s"
            pkg_lines.append(line)
            if act == "fail":
                pkg_failed.append(key)
for line in pkg_lines:
    print(line, file=sys.stderr)
for key in failed + pkg_failed:
    print(f"---- {key[0]} {key[1] or '(package)'} ----", file=sys.stderr)
    sys.stderr.write("".join(output[key][-80:]))
print(p, f, s)
PY
  ) || die "could not read go test -json output"
  add "$gocounts"
  if [ "$go_rc" -ne 0 ]; then
    cat "$work/gotest-$tag.err" >&2
    die "go test ./... in $dir/"
  fi
}
go_test go go

# The whole module again under the race detector (its tests are counted once, above).
step "go test -race -count=1 ./... (go)"
in_devenv go go test -race -count=1 ./... >"$work/gorace.log" 2>&1 ||
  die "go test -race ./... in go/" "$work/gorace.log"

# Bounded fuzzing of every Go fuzz target of go/internal/capi (go test ran their seeds above), one
# target per go test (-fuzz takes one), 20 s each on two workers. Inputs that add coverage are
# minimised for at most 2 s (default 60 s), so that the NVRTC target spends its time fuzzing. A
# failing input is kept in go/internal/capi/testdata/fuzz/<target>/ and replays with go test.
fuzz_targets=$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$root"/go/internal/capi/*_test.go)
[ -n "$fuzz_targets" ] || die "no Go fuzz targets found in go/internal/capi"
for target in $fuzz_targets; do
  step "go test -run '^\$' -fuzz '^$target\$' -fuzztime 20s ./internal/capi/ (go)"
  in_devenv go go test -run '^$' -fuzz "^$target\$" -fuzztime 20s -fuzzminimizetime 2s -parallel 2 \
    ./internal/capi/ >"$work/fuzz-$target.log" 2>&1 ||
    die "fuzzing $target in go/internal/capi" "$work/fuzz-$target.log"
  grep '^fuzz: elapsed' "$work/fuzz-$target.log" | tail -n 1 || true
done

# The soak test (5 s in go test above) for 20 s: allocation, copy, launch and free cycles from many
# goroutines; it fails if the RSS, threads, goroutines or the pool's reservation grow.
step "CUDAGO_SOAK_SECONDS=20 go test -run '^TestSoak\$' ./internal/capi/ (go)"
CUDAGO_SOAK_SECONDS=20 in_devenv go go test -count=1 -v -run '^TestSoak$' ./internal/capi/ \
  >"$work/soak.log" 2>&1 || die "TestSoak with CUDAGO_SOAK_SECONDS=20 in go/internal/capi" "$work/soak.log"
grep 'soak_test.go:[0-9]*:' "$work/soak.log" || true

step "go vet ./... && go build ./... (examples/go)"
in_devenv examples/go go vet ./... >"$work/exvet.log" 2>&1 || die "go vet ./... in examples/go" "$work/exvet.log"
in_devenv examples/go go vet -tags gpu ./... >"$work/exvet-gpu.log" 2>&1 ||
  die "go vet -tags gpu ./... in examples/go" "$work/exvet-gpu.log"
# -o into a folder: a lone main package would otherwise be written over its own directory name.
mkdir -p "$work/exbin"
in_devenv examples/go go build -o "$work/exbin/" ./... >"$work/exbuild.log" 2>&1 ||
  die "go build ./... in examples/go" "$work/exbuild.log"
# The examples' own tests (the SGEMM example: its GPU tests skip without one).
go_test examples/go examples

# The example HTTP server (examples/go/serve, built into exbin above) against the real Triton
# client: tests/serve/test_triton_client.py with the virtual environment's tritonclient.http, and
# onnxruntime as the reference for its results.
step "tests/serve/test_triton_client.py (examples/go/serve with tritonclient.http)"
venv_python=$(meson introspect --buildoptions "$build" | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "venv") + "/bin/python")') ||
  die "could not read the build's venv option (meson introspect --buildoptions build)"
triton_rc=0
in_devenv examples/go timeout 300 "$venv_python" "$root/tests/serve/test_triton_client.py" \
  "$work/exbin/serve" >"$work/triton.log" 2>&1 || triton_rc=$?
triton_counts=$(sed -n 's/^triton-client: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
  "$work/triton.log")
add "${triton_counts:-0 1 0}"
[ "$triton_rc" -eq 0 ] || die "tests/serve/test_triton_client.py" "$work/triton.log"
tail -n 1 "$work/triton.log"

echo "test.sh: all steps passed"
