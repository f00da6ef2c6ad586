#!/usr/bin/env bash
# bundle/run.sh (source: scripts/bundle-run.sh, copied by scripts/gpu-bundle.sh).
#
# Runs cudago's tests, examples and benchmarks on a GPU machine that has no Go and no
# GoogleTest, from the prebuilt binaries in bundle/. Run from the repository root:
#   bash bundle/run.sh
# Output goes to the terminal and into $OUT (a temporary folder when OUT is unset):
#   run.log          everything printed
#   bench-cpp.jsonl  bench_capi rows       bench-go.txt  Go benchmark output
#   peers.jsonl      peers.py rows         bench.md      the report with the targets
#   bench-go-compute.txt  Go compute benchmarks (GEMM, SGEMM, FFT, reductions, layouts)
#   bench-go-gemm.txt     Go cuBLAS GEMM, timed in bursts like peers.py
#   bench-go-multi.txt    Go many-GPU benchmarks (peer copies, all-reduce, spread)
#   bench-nn.jsonl   bench_nn rows (the CNN runtime: ResNet-50 img/s, latency, memory, load time)
# Every step runs under a timeout, and the whole run under RUN_BUDGET_S seconds (default 560).
# The race-detector step runs the concurrency tests; CUDAGO_RACE_RUN=REGEX picks others (. = all).
# RUN_BENCH=0 runs the tests and examples only (no benchmarks, no peers, no report).
# RUN_ONLY=REGEX runs only the steps whose whole name matches REGEX (bash extended regex; the
#   others print "not selected" and count nowhere); the report still runs unless RUN_BENCH=0.
#   The CNN figures alone (bench_nn needs the models that nn_models writes):
#     RUN_ONLY='nn_models|bench_nn|peers_resnet50' bash bundle/run.sh
# RUN_COMPILE=1 adds the step peers_resnet50_compile: the torch.compile(mode="max-autotune")
#   ResNet-50 peer, which compiles for minutes per shape (PEERS_COMPILE_BUDGET_S, default 420:
#   a compile that the longest one so far says would end past it is skipped, with a row;
#   PEERS_COMPILE_BATCHES=1 compiles batch 1 alone, default 256,1; the step's cap is 540 s).
#   Give it a run of its own, e.g.
#     RUN_BENCH=1 RUN_COMPILE=1 RUN_ONLY=peers_resnet50_compile bash bundle/run.sh
#   and put its peers.jsonl rows beside the other run's files for report.py --dir.
# The last lines are one "PASS|FAIL|SKIP step (seconds)" line per step and
#   gpu-bundle: N passed, M failed
# The exit status is non-zero when a step failed.
set -uo pipefail

bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bundle/.." && pwd)
bin="$bundle/bin"
# gpu-bundle.sh carries the executables as bin.tar.xz (a third of their size): unpacked here.
if [ ! -d "$bin" ] && [ -f "$bundle/bin.tar.xz" ]; then
  unpacked=$(mktemp -d)
  tar -C "$unpacked" -xJf "$bundle/bin.tar.xz" 2>/dev/null ||
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$bundle/bin.tar.xz" "$unpacked" || { echo "cannot unpack bin.tar.xz" >&2; exit 1; }
  bin="$unpacked/bin"
fi
out=${OUT:-}
if [ -z "$out" ]; then out=$(mktemp -d); fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
log="$out/run.log"
: >"$log"

export CUDAGO_REQUIRE_GPU=1
export LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# cuBLAS and cuFFT come from the machine's CUDA toolkit (too large to carry).
cuda_lib="${CUDA_PATH:-/usr/local/cuda}/lib64"
if [ -d "$cuda_lib" ]; then export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$cuda_lib"; fi
# NVLink multicast stays off on shared machines (a program using it can take the host's GPUs
# out of service for others).
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
# NCCL is loaded at run time: use the toolkit's, else the one PyTorch's NCCL wheel ships.
if [ -z "${CUDAGO_NCCL_LIBRARY:-}" ] && [ ! -e "$cuda_lib/libnccl.so.2" ] &&
  ! ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2'; then
  nccl_lib=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib", "libnccl.so.2"))' 2>/dev/null || true)
  if [ -n "$nccl_lib" ] && [ -e "$nccl_lib" ]; then export CUDAGO_NCCL_LIBRARY="$nccl_lib"; fi
fi
# cuDNN (the CNN runtime's convolutions) is loaded at run time too: the system's, else PyTorch's
# nvidia-cudnn wheel's.
if [ -z "${CUDAGO_CUDNN_LIBRARY:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcudnn\.so\.9'; then
  cudnn_lib=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], "lib", "libcudnn.so.9"))' 2>/dev/null || true)
  if [ -n "$cudnn_lib" ] && [ -e "$cudnn_lib" ]; then
    export CUDAGO_CUDNN_LIBRARY="$cudnn_lib"
    # libcudnn.so.9 loads its sub-libraries (libcudnn_cnn.so.9, ...) from the library path.
    cudnn_dir=$(dirname "$cudnn_lib")
    export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$cudnn_dir"
  fi
fi
export CUDAGO_NVML_STUB_DIR="$bundle/lib" # the fake NVML libraries of the metrics tests
export PYTHONUNBUFFERED=1
export GOTRACEBACK=all

budget=${RUN_BUDGET_S:-560}
reserve=30 # kept for the report at the end
t_start=$SECONDS
summary=()
n_pass=0
n_fail=0

say() { echo "$*" | tee -a "$log"; }

record() { # record RESULT NAME SECONDS [NOTE]
  summary+=("$1 $2 ($3s)${4:+ $4}")
  case $1 in
    PASS) n_pass=$((n_pass + 1)) ;;
    FAIL) n_fail=$((n_fail + 1)) ;;
  esac
}

# time_left CAP: seconds this step may take: CAP, less if the run's budget is nearly spent.
time_left() {
  local left=$((budget - (SECONDS - t_start) - reserve))
  if [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
}

# step NAME CAP_SECONDS DEST CMD...: runs CMD under a timeout. DEST "-" streams its output to
# the terminal and run.log; a file name keeps stdout in that file ($OUT/DEST), shown afterwards;
# "+name" appends to it ($OUT brings back at most 8 files).
step() {
  local name=$1 cap=$2 dest=$3
  shift 3
  local t rc t0
  if [ -n "${RUN_ONLY:-}" ] && [ "$name" != report ] && ! [[ $name =~ ^(${RUN_ONLY})$ ]]; then
    say "==> $name: not selected (RUN_ONLY)"
    return
  fi
  t=$(time_left "$cap")
  if [ "$t" -lt 5 ]; then
    say "==> $name: SKIP (the run's ${budget}s budget is spent)"
    record SKIP "$name" 0 "(no time left)"
    return
  fi
  if [ ! -x "$1" ] && ! command -v "$1" >/dev/null 2>&1; then
    say "==> $name: FAIL ($1 not found)"
    record FAIL "$name" 0 "($1 not found)"
    return
  fi
  say "==> $name (timeout ${t}s): ${*##"$bundle"/}"
  t0=$SECONDS
  if [ "$dest" = - ]; then
    timeout -k 10 "$t" "$@" 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
  else
    local file=${dest#+}
    if [ "$file" = "$dest" ]; then : >"$out/$file"; fi
    timeout -k 10 "$t" "$@" >"$out/$file.new" 2>"$out/$file.err"
    rc=$?
    cat "$out/$file.new" "$out/$file.err" | tee -a "$log"
    cat "$out/$file.new" >>"$out/$file"
    rm -f "$out/$file.new" "$out/$file.err"
  fi
  local dt=$((SECONDS - t0))
  if [ "$rc" -eq 0 ]; then
    record PASS "$name" "$dt"
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    say "==> $name: timed out after ${t}s"
    record FAIL "$name" "$dt" "(timed out)"
  else
    say "==> $name: exit status $rc"
    record FAIL "$name" "$dt"
  fi
}

# Counts the Go test verdicts in the verbose output of the last Go step.
go_summary() {
  local p f s
  p=$(grep -cE '^\s*--- PASS' "$log")
  f=$(grep -cE '^\s*--- FAIL' "$log")
  s=$(grep -cE '^\s*--- SKIP' "$log")
  say "go tests so far (run.log): $p passed, $f failed, $s skipped"
}

say "cudago GPU run: $(date -u +%Y-%m-%dT%H:%M:%SZ), bundle $bundle, output $out"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi -L 2>&1 | tee -a "$log"
else
  say "nvidia-smi: not found"
fi

# go_dir DIR: the working directory of the steps that follow: go/DIR when the repository is
# there (a Go test binary runs in its package's directory, as go test runs it), else bundle/.
go_dir() { cd "$repo/go/$1" 2>/dev/null || cd "$bundle" || exit 1; }

# The Go test suite and benchmarks (cudago.test, cudago-race.test) are go/internal/capi's.
go_dir internal/capi

# The CNN runtime's test models, for nn_test and the Go tests: regenerated here (same bytes:
# --verify checks the manifests' SHA-256), with onnxruntime's outputs from the bundle. nn_test
# runs every model on the GPU in fp32, fp16 and bf16 against them (streams, graphs, arena, tuning
# cache); the Go tests read them too.
# (Outside $OUT: the device tool brings back a few files only.)
models="$(mktemp -d)/models"
export CUDAGO_MODELS_DIR="$models"
step nn_models 120 - python3 "$bundle/nn/gen-models.py" --out "$models" --no-refs
cp "$bundle"/nn/refs/* "$models/" 2>/dev/null
step nn_models_verify 60 - python3 "$bundle/nn/gen-models.py" --verify "$models"

step core_test 120 - "$bin/core_test"
step capi_test 120 - "$bin/capi_test"
step peer_test 120 - "$bin/peer_test"
step c99 60 - "$bin/abi_c99"
step go_test 180 - "$bin/cudago.test" -test.v -test.count=1 -test.timeout 170s
go_summary
# By default the race step runs the tests that share handles between goroutines (the compute
# tests' CPU references run ten times slower under the race detector); CUDAGO_RACE_RUN=. runs all.
race_args=(-test.run "${CUDAGO_RACE_RUN:-Concurren|Race|Close|Pool|Wait|Finalizer|HotPath|Cache}")
step go_race 150 - "$bin/cudago-race.test" "${race_args[@]}" -test.count=1 -test.timeout 140s
# The public packages' examples (go/cudago, go/blas, go/fft, ...: pkg-<name>.test, one per
# package with tests), each in its package's directory: they check the public API's output.
for t in "$bin"/pkg-*.test; do
  [ -e "$t" ] || continue
  pkg=${t##*/pkg-}
  pkg=${pkg%.test}
  go_dir "$pkg"
  # nccl's multi-process tests (two GPUs) start two child processes each and wait out deadlines.
  cap=60
  [ "$pkg" = nccl ] && cap=160
  step "go_pkg_$pkg" $cap - "$t" -test.v -test.count=1 -test.timeout $((cap - 10))s
done
go_dir internal/capi
go_summary
step nn_test 300 - "$bin/nn_test"
step example_c 60 - "$bin/vector_add_c"
step example_go 60 - "$bin/vecadd"
step sgemm_test 120 - "$bin/sgemm.test" -test.v -test.count=1 -test.timeout 110s
if [ "${RUN_BENCH:-1}" != 0 ]; then
  step bench_capi 120 bench-cpp.jsonl "$bin/bench_capi"
  # Three 1 s repetitions of each benchmark: the report takes the median (host copies over PCIe
  # vary by several GB/s between runs on the shared machines).
  # RoundTripLockedThread and CgoCall split the Go round trip's gap to the C++ twin (bench.md).
  step bench_go 240 bench-go.txt "$bin/cudago.test" -test.run '^$' \
    -test.bench '^Benchmark(H2D|D2H|D2D|VectorAdd|RoundTrip|RoundTripLockedThread|CgoCall|CPUVectorAdd)$' \
    -test.benchtime 1s -test.count 3 -test.timeout 230s
  # The compute benchmarks (kernels, cuBLAS, cuFFT): one pass each, appended to the same file.
  step bench_go_compute 240 bench-go-compute.txt "$bin/cudago.test" -test.run '^$' \
    -test.bench '^Benchmark(Elementwise|Cast|Reduce|Transpose|LayoutCopyBound|NHWC|NCHW|GEMMLatency|GEMV|BLAS|FFT)' \
    -test.benchtime 0.5s -test.timeout 230s
  # The hand-written SGEMM (examples/go/sgemm), appended to the compute figures.
  step bench_sgemm 120 +bench-go-compute.txt "$bin/sgemm.test" -test.run '^$' \
    -test.bench '^BenchmarkSGEMM' -test.benchtime 0.5s -test.timeout 110s
  # cuBLAS GEMM timed as peers.py times torch: bursts of 10 after a warm-up, median of 5. Long
  # back-to-back runs of tensor-core GEMMs at 4096 are power-limited (see docs/PERFORMANCE.md).
  step bench_go_gemm 120 bench-go-gemm.txt "$bin/cudago.test" -test.run '^$' \
    -test.bench '^BenchmarkGEMM$' -test.benchtime 10x -test.count 5 -test.timeout 110s
  # Many GPUs (peer copies, NCCL all-reduce, the spread helper); each skips with fewer than 2.
  step bench_go_multi 120 bench-go-multi.txt "$bin/cudago.test" -test.run '^$' \
    -test.bench '^Benchmark(PeerCopy|AllReduce|Spread)' -test.benchtime 0.5s -test.timeout 110s
  # Run-time compilation and CUDA Graphs: compile and cache-hit times, launch cost, and 1000 tiny
  # kernels queued one by one against one graph replay.
  step bench_go_graph 120 +bench-go-multi.txt "$bin/cudago.test" -test.run '^$' \
    -test.bench '^Benchmark(GraphTinyKernels|RTC)' -test.benchtime 0.5s -test.count 3 \
    -test.timeout 110s
  step peers 240 peers.jsonl python3 "$bundle/peers/peers.py" copy vecadd h2d reduce sgemm fft transpose
  step peer_graph 60 +peers.jsonl python3 "$bundle/peers/graph_peer.py"
  # The CNN runtime: ResNet-50 v1.5 (nn_models' resnet50_pt.onnx) over the C ABI in fp16, bf16
  # and fp32 at batch 1 to 256 (img/s, latency, GPU memory, arena, load and tune time), then the
  # same network in PyTorch: eager, channels_last, cuDNN autotuned, and CUDA graph replay.
  step bench_nn 300 bench-nn.jsonl "$bin/bench_nn" "$models/resnet50_pt.onnx"
  # The same without cuDNN's fused bias+residual+ReLU call (diagnostic: what the fused path costs
  # or saves, batch 1 in particular); its rows are named resnet50_pt_*_nofusion.
  step bench_nn_nofusion 300 bench-nn-nofusion.jsonl env CUDAGO_NN_NO_CUDNN_FUSION=1 \
    "$bin/bench_nn" "$models/resnet50_pt.onnx"
  # Where batch 1's (and 128's) time goes: CUDAGO_NN_PROFILE=1 times every layer alone before
  # the graph of a batch size is captured and writes the table (to nn-profile.txt). bash -c's
  # "$0" "$@" expand in that shell, not here.
  # shellcheck disable=SC2016
  step bench_nn_profile 200 nn-profile.txt env CUDAGO_NN_PROFILE=1 bash -c '"$0" "$@" 2>&1' \
    "$bin/bench_nn" "$models/resnet50_pt.onnx" fp16 1,128
  step peers_resnet50 300 +peers.jsonl python3 "$bundle/peers/peers.py" resnet50
  # Serving ResNet-50 fp16 (max batch 128, 2 ms queue delay): the batcher in-process, a sweep of
  # closed-loop concurrencies (saturation against bench_nn's offline batch-128 figure), then the
  # example HTTP server driven over HTTP with /metrics scraped beside nvidia-smi. The sweep's
  # server captures every batch size's graph at start (-capture-all-sizes): no capture in a
  # request's latency.
  step serve_inproc 240 serve-inproc.txt "$bin/loadgen" -mode inproc -model "$models/resnet50_pt.onnx" \
    -backend gpu -precision fp16 -max-batch 128 -max-queue-delay 2ms -sweep 1,16,64,256,512 \
    -capture-all-sizes \
    -duration 6s -warmup 3s -json "$out/serve-inproc.json" -png "$out/serve-inproc.png" \
    -scrape-interval 500ms -timeseries-png "$out/serve-inproc-ts"
  # Saturation (512 clients) three more ways: uint8 NHWC images (a quarter of the bytes), the
  # instances' computes side by side (-concurrent-compute) and three instances; each prints its
  # mean per-batch stage times. bench_nn_sat: the offline batch-128 figures (float and uint8
  # input) to hold them against, in the same call.
  step bench_nn_sat 120 +bench-nn.jsonl "$bin/bench_nn" "$models/resnet50_pt.onnx" fp16,fp16u8 128
  for variant in "u8:-uint8" "concurrent:-concurrent-compute" "i3:-instances=3"; do
    step "serve_inproc_${variant%%:*}" 60 "+serve-inproc.txt" "$bin/loadgen" -mode inproc \
      -model "$models/resnet50_pt.onnx" -backend gpu -precision fp16 -max-batch 128 \
      -max-queue-delay 2ms -concurrency 512 -duration 6s -warmup 3s -scrape-interval 500ms \
      "${variant#*:}"
  done
  # Two GPUs (issue: serving across two GPUs): saturation with the instances on device 0 alone,
  # then on devices 0 and 1, in the same step (the ratio is the target, >= 1.8x); metrics scraped.
  ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
  if [ "${ngpu:-0}" -ge 2 ]; then
    for devs in 0 0,1; do
      step "serve_inproc_gpus_${devs/,/_}" 90 "+serve-inproc.txt" "$bin/loadgen" -mode inproc \
        -model "$models/resnet50_pt.onnx" -backend gpu -precision fp16 -max-batch 128 \
        -max-queue-delay 2ms -concurrency 1024 -duration 8s -warmup 3s -scrape-interval 500ms \
        -capture-all-sizes -devices "$devs"
    done
  else
    say "==> serve_inproc_gpus_*: SKIP (one GPU: needs two)"
  fi
  # Overload: Poisson arrivals at 40,000 requests/s (above what one GPU serves), a 20 ms deadline
  # each: every request accounted for (ok, queue full, timeout), and how late past its deadline
  # each timed-out one was answered.
  step serve_overload 60 "+serve-inproc.txt" "$bin/loadgen" -mode inproc \
    -model "$models/resnet50_pt.onnx" -backend gpu -precision fp16 -max-batch 128 \
    -max-queue-delay 2ms -rate 40000 -timeout 20ms -max-outstanding 20000 -duration 6s \
    -warmup 2s -scrape-interval 500ms -capture-all-sizes
  # The batcher's CPU cost per request (target ≤ 10 µs): C threads closed loop on a tiny model on
  # the GPU (its run costs the CPU nothing but the wait), 64 and 512 clients.
  for clients in 64 512; do
    step "bench_serve_$clients" 30 "+serve-inproc.txt" "$bin/bench_serve" \
      "$models/relu_c13_13x11.onnx" "$clients" 5 128 200 gpu
  done
  step serve_http 150 serve-http.txt bash "$bundle/serve-http.sh" "$bin" "$models/resnet50_pt.onnx" \
    "$out" -concurrency 256 -duration 15s -warmup 3s -json "$out/serve-http.json" \
    -scrape-interval 1s -timeseries-png "$out/serve-http-ts"
  # torch.compile max-autotune takes minutes per shape: with RUN_COMPILE=1 only (see the top).
  if [ "${RUN_COMPILE:-0}" = 1 ]; then
    step peers_resnet50_compile 540 +peers.jsonl python3 "$bundle/peers/peers.py" resnet50_compile
  fi
fi
reserve=0
if [ "${RUN_BENCH:-1}" != 0 ]; then step report 30 - python3 "$bundle/report.py" --dir "$out"; fi

say ""
say "total $((SECONDS - t_start))s; output in $out"
for line in "${summary[@]}"; do say "$line"; done
say "gpu-bundle: $n_pass passed, $n_fail failed"
[ "$n_fail" -eq 0 ]
