#!/usr/bin/env bash
# Serving over HTTP on the GPU machine (bundle/run.sh's serve_http step): starts the example
# server (bin/serve) with a model, drives it with bin/loadgen over HTTP, scrapes /metrics during
# the load and reads nvidia-smi at the same moment, then stops the server with SIGTERM and checks
# that it drained and exited 0.
#
#   serve-http.sh BIN_DIR MODEL OUT_DIR [loadgen flags...]
set -uo pipefail
bin=$1 model=$2 out=$3
shift 3
port=$((20000 + RANDOM % 20000))
# GET a URL to stdout (python3 is on the GPU machine; curl may not be).
fetch() {
  python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"
}
"$bin/serve" -addr "127.0.0.1:$port" -name resnet50 -backend gpu -precision fp16 \
  -max-batch 128 -max-queue-delay 2ms -triton-metrics "$model" >"$out/serve-http-server.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  if fetch "http://127.0.0.1:$port/v2/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the server exited before it was ready:"
    cat "$out/serve-http-server.log"
    exit 1
  fi
  sleep 1
done
fetch "http://127.0.0.1:$port/v2/models/resnet50/config" || { kill "$pid"; exit 1; }
echo
# The scrape and nvidia-smi halfway through the load.
(
  sleep "${SCRAPE_AFTER_S:-6}"
  nvidia-smi --query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,power.draw,clocks.sm,clocks.mem \
    --format=csv,noheader,nounits >"$out/serve-http-nvidia-smi.csv" 2>&1
  fetch "http://127.0.0.1:$port/metrics" >"$out/serve-http-metrics.txt" 2>&1
) &
scraper=$!
"$bin/loadgen" -mode http -url "http://127.0.0.1:$port" -name resnet50 "$@"
rc=$?
wait "$scraper"
echo "== nvidia-smi (index, uuid, util %, mem used MiB, mem total MiB, power W, SM MHz, mem MHz)"
cat "$out/serve-http-nvidia-smi.csv"
echo "== /metrics (GPU and request series)"
grep -E '^(cudago_gpu_|cudago_nvml|cudago_requests_total|cudago_batch_size_(sum|count)|cudago_inferences_total|cudago_queue_depth)' \
  "$out/serve-http-metrics.txt" | head -60
kill -TERM "$pid"
wait "$pid"
src=$?
echo "server exit status after SIGTERM: $src"
tail -5 "$out/serve-http-server.log"
[ "$rc" = 0 ] && [ "$src" = 0 ]
