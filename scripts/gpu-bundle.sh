#!/usr/bin/env bash
# Builds bundle/: everything needed to test and benchmark cudago on a GPU machine that has the
# CUDA driver and Python (PyTorch, CuPy) but no Go, no GoogleTest and no network.
#
#   scripts/gpu-bundle.sh            # on the build machine, after scripts/setup.sh
#   bash bundle/run.sh               # on the GPU machine, from the repository root
#
# The build (build-bundle/) targets Hopper only (-Dgpu_sm=90 -Dgpu_ptx=) to keep the bundle
# small. bundle/ holds:
#   lib/    libcudago.so*
#   bin.tar.xz: bin/ packed with xz (run.sh and sanitize.sh unpack it), where bin/ holds
#           core_test capi_test peer_test abi_c99 bench_capi vector_add_c nn_test bench_nn
#           bench_serve (meson), cudago.test and
#           cudago-race.test (go test -c -tags gpu of go/internal/capi: the Go test suite and
#           benchmarks), pkg-<name>.test (go test -c -tags gpu of each public package with tests,
#           go/<name>: the examples that check the public API, GPU ones included), serve and
#           loadgen (the serving example and its load generator), vecadd (the Go
#           example), sgemm.test (the SGEMM example's tests and benchmark)
#   peers/  peers.py (from scripts/peers.py, or from $PEERS_PY when set: PyTorch and CuPy figures
#           for the same operations, ResNet-50 in PyTorch eager, CUDA graph and torch.compile),
#           graph_peer.py
#   nn/     gen-models.py and refs/ (the test models' manifests and onnxruntime outputs)
#   run.sh  (from scripts/bundle-run.sh)   report.py (from scripts/bench-report.py)
#   sanitize.sh (from scripts/bundle-sanitize.sh: compute-sanitizer over the suites)
# Fails if the bundle exceeds 60 MiB.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build="$root/build-bundle"
bundle="$root/bundle"
peers=${PEERS_PY:-$root/scripts/peers.py} # PEERS_PY: another peers.py to carry instead
limit_mib=60

die() {
  echo "gpu-bundle.sh: $1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then tail -n 60 "$2" >&2; fi
  exit 1
}

if ! command -v nvcc >/dev/null 2>&1; then
  export PATH="${CUDA_PATH:-/usr/local/cuda}/bin:$PATH"
fi
for tool in nvcc meson ninja go python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run scripts/setup.sh"
done
[ -f "$peers" ] || die "peers.py not found at $peers (set PEERS_PY)"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "==> meson build in build-bundle/ (sm_90 only)"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dgpu_sm=90 -Dgpu_ptx= -Dtests=true >"$log" 2>&1 ||
    die "meson setup build-bundle failed" "$log"
else
  meson configure "$build" -Dgpu_sm=90 -Dgpu_ptx= -Dtests=true >"$log" 2>&1 ||
    die "meson configure build-bundle failed" "$log"
fi
meson compile -C "$build" >"$log" 2>&1 || die "meson compile -C build-bundle failed" "$log"

rm -rf "$bundle"
mkdir -p "$bundle/lib" "$bundle/bin" "$bundle/peers"

for f in "$build"/capi/libcudago.so*; do
  [ -d "$f" ] || cp -a "$f" "$bundle/lib/" # the library and its SONAME links, not the .p folder
done
for exe in tests/core_test tests/capi_test tests/peer_test tests/c99/abi_c99 tests/bench/bench_capi \
  examples/vector_add_c tests/nn/nn_test tests/bench/bench_nn tests/bench/bench_serve \
  tests/batch_copy_probe tests/pool_reuse_probe; do
  [ -x "$build/$exe" ] || die "missing $build/$exe"
  cp "$build/$exe" "$bundle/bin/"
done

# libcudago parses ONNX with Debian's protobuf and onnx_proto libraries, which the GPU machine
# lacks: carry them (and nothing else of the system's).
while read -r lib; do
  cp -L "$lib" "$bundle/lib/"
done < <(ldd "$bundle"/lib/libcudago.so.*.*.* | awk '/lib(protobuf|onnx_proto)/ && $3 ~ /^\// {print $3}' | sort -u)
[ -n "$(ls "$bundle"/lib/libprotobuf.so.* 2>/dev/null)" ] || die "libprotobuf was not carried"

# The fake NVML libraries of the GPU-metrics tests (core_test and go/metrics look for them in
# lib/, and through CUDAGO_NVML_STUB_DIR, which run.sh sets).
cp "$build"/tests/libnvml_stub_*.so "$bundle/lib/" || die "no NVML stub libraries in $build/tests"

# GoogleTest may be linked shared on some distributions: carry any such library along.
while read -r lib; do
  cp -L "$lib" "$bundle/lib/"
done < <(ldd "$bundle"/bin/* 2>/dev/null | awk '/lib(gtest|gmock)/ && $3 ~ /^\// {print $3}' | sort -u)

echo "==> go test -c (go/internal/capi normal and -race, each public package; -tags gpu) and the Go example"
# meson devenv finds the uninstalled cudago.pc; -s -w drops the symbol table and DWARF (stack
# traces keep their function names) to keep the bundle small. -tags gpu compiles in the Go
# examples that need a GPU (go/cudago/example_gpu_test.go and the other files with the gpu build
# tag), so the bundle runs them and checks their output.
in_devenv() {
  local dir=$1
  shift
  meson devenv -C "$build" --workdir "$root/$dir" "$@"
}
# The main suite and the benchmarks: the package-internal tests of go/internal/capi.
in_devenv go go test -c -tags gpu -ldflags='-s -w' -o "$bundle/bin/cudago.test" ./internal/capi \
  >"$log" 2>&1 || die "go test -c ./internal/capi failed" "$log"
in_devenv go go test -c -race -tags gpu -ldflags='-s -w' -o "$bundle/bin/cudago-race.test" \
  ./internal/capi >"$log" 2>&1 || die "go test -c -race ./internal/capi failed" "$log"
# One binary per public package (go/cudago, go/blas, go/fft, ...: every folder of go/ but
# internal/), pkg-<name>.test, for its examples; bundle/run.sh runs each in go/<name>. go test -c
# writes nothing, successfully, for a package without tests: it is skipped.
pkg_tests=()
for dir in "$root"/go/*/; do
  pkg=$(basename "$dir")
  [ "$pkg" != internal ] || continue
  compgen -G "$dir*.go" >/dev/null || continue
  in_devenv go go test -c -tags gpu -ldflags='-s -w' -o "$bundle/bin/pkg-$pkg.test" "./$pkg" \
    >"$log" 2>&1 || die "go test -c ./$pkg failed" "$log"
  if [ -x "$bundle/bin/pkg-$pkg.test" ]; then
    pkg_tests+=("pkg-$pkg.test")
  else
    echo "go/$pkg has no tests: no pkg-$pkg.test"
  fi
done
[ ${#pkg_tests[@]} -gt 0 ] || die "no public Go package under go/ has tests"
in_devenv examples/go go build -ldflags='-s -w' -o "$bundle/bin/vecadd" ./vecadd >"$log" 2>&1 ||
  die "go build ./vecadd (examples/go) failed" "$log"
# The serving example and the load generator (run.sh's serve_inproc and serve_http steps).
for ex in serve loadgen; do
  in_devenv examples/go go build -ldflags='-s -w' -o "$bundle/bin/$ex" "./$ex" >"$log" 2>&1 ||
    die "go build ./$ex (examples/go) failed" "$log"
done
# The hand-written SGEMM example (compiled at run time with NVRTC): its tests and benchmark.
in_devenv examples/go go test -c -tags gpu -ldflags='-s -w' -o "$bundle/bin/sgemm.test" ./sgemm \
  >"$log" 2>&1 || die "go test -c ./sgemm (examples/go) failed" "$log"
for exe in cudago.test cudago-race.test vecadd sgemm.test; do
  # go test -c writes nothing, successfully, for a package without tests.
  [ -x "$bundle/bin/$exe" ] || die "bundle/bin/$exe was not built (does go/internal/capi have tests?)"
done

# The CNN runtime's test models are regenerated on the GPU machine (scripts/gen-models.py needs
# onnx and numpy only, and writes the same bytes everywhere: the manifests' SHA-256 check it);
# onnxruntime's reference outputs, computed here, travel with their manifests.
mkdir -p "$bundle/nn/refs"
cp "$root/scripts/gen-models.py" "$bundle/nn/gen-models.py"
models="$build/tests/nn/models"
[ -d "$models" ] || die "no generated models in $models"
cp "$models"/*.test "$bundle/nn/refs/"
(cd "$models" && awk '$1 == "output" { print $NF }' ./*.test | sort -u | xargs cp -t "$bundle/nn/refs/") ||
  die "copying the reference outputs failed"

cp "$peers" "$bundle/peers/peers.py"
cp "$root/scripts/graph-peer.py" "$bundle/peers/graph_peer.py"
cp "$root/scripts/bundle-run.sh" "$bundle/run.sh"
cp "$root/scripts/bundle-sanitize.sh" "$bundle/sanitize.sh"
cp "$root/scripts/bundle-serve-http.sh" "$bundle/serve-http.sh"
cp "$root/scripts/bench-report.py" "$bundle/report.py"
chmod +x "$bundle/run.sh" "$bundle/sanitize.sh" "$bundle/serve-http.sh" "$bundle/report.py"

ls -l "$bundle/lib" "$bundle/bin"
# The executables travel as one xz archive (Go test binaries shrink to about a third); run.sh and
# sanitize.sh unpack it into a temporary directory.
tar -C "$bundle" -cf - bin | xz -T2 -6 >"$bundle/bin.tar.xz" || die "packing bin/ failed"
rm -rf "${bundle:?}/bin"
bytes=$(du -sb "$bundle" | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "bundle: $mib MiB in $bundle"
if [ "$bytes" -gt $((limit_mib * 1048576)) ]; then
  die "bundle is $mib MiB, over the ${limit_mib} MiB limit"
fi
echo "run it on the GPU machine from the repository root: bash bundle/run.sh"
