#!/usr/bin/env python3
"""One table from cudago's benchmarks and the peers' figures, with the issue's targets.

Reads, from one GPU run (bundle/run.sh writes them to $OUT):
  bench-go*.txt    output of `cudago.test -test.bench` (Go benchmarks): bench-go.txt (copies,
                   vecadd, round trip) and bench-go-compute.txt (GEMM, SGEMM, FFT, reductions,
                   elementwise, layout changes)
  bench-cpp.jsonl  output of bench_capi (C++ over the C ABI, and raw CUDA references)
  peers.jsonl      output of peers.py (PyTorch and CuPy; ResNet-50 in PyTorch eager, CUDA graph
                   replay and torch.compile)
  bench-nn.jsonl   output of bench_nn (the CNN runtime: ResNet-50 per precision and batch)
and prints a Markdown report (also written to bench.md): for each operation the Go, C++,
raw-CUDA, torch and cupy figures, Go over torch, and Go over the measured device-to-device
copy bandwidth and over the datasheet HBM bandwidth; then each target with PASS or MISS; then
the compute benchmarks against their peers (table COMPUTE) and the compute targets; then the
CNN runtime against PyTorch per precision and batch, its memory and load time, and the CNN
targets.

GB/s everywhere is 1e9 bytes per second of the bytes the operation must move: H2D/D2H the
copy size, d2d_copy bytes read plus written (2 x size), vecadd_f32 12 bytes per element.
Go figures are recomputed from ns/op with those byte counts, so they do not depend on what each
benchmark passed to b.SetBytes. Compute benchmarks likewise: TFLOP/s from 2mnk per GEMM, GB/s
from the bytes peers.py counts for the same operation (table COMPUTE).

  python3 bench-report.py --dir $OUT
  python3 bench-report.py --go bench-go.txt --cpp bench-cpp.jsonl --peers peers.jsonl
  python3 bench-report.py --dir $OUT --nn other-run/bench-nn.jsonl
"""
import argparse
import glob
import json
import os
import re
import statistics
import sys

MIB = 1 << 20

# The operations compared, in table order: (key, op, params to match, label, bytes moved).
OPS = [
    ("h2d_pinned", "h2d", {"host": "pinned"}, "H2D pinned, 256 MiB", 256 * MIB),
    ("h2d_pageable", "h2d", {"host": "pageable"}, "H2D pageable, 256 MiB", 256 * MIB),
    ("d2h_pinned", "d2h", {"host": "pinned"}, "D2H pinned, 256 MiB", 256 * MIB),
    ("d2h_pageable", "d2h", {"host": "pageable"}, "D2H pageable, 256 MiB", 256 * MIB),
    ("d2d_copy", "d2d_copy", {}, "D2D copy, 1 GiB (read+write)", 2 * 1024 * MIB),
    ("vecadd_10m", "vecadd_f32", {"n": 10_000_000}, "vecadd f32, n=10M", 12 * 10_000_000),
    ("vecadd_256m", "vecadd_f32", {"n": 1 << 28}, "vecadd f32, n=256Mi", 12 * (1 << 28)),
    ("roundtrip", "roundtrip", {}, "round trip (vecadd n=1 + sync), us", None),
]
OP_BY_KEY = {o[0]: o for o in OPS}

# Datasheet memory bandwidth, GB/s, by a substring of the device name.
HBM = [("H200", 4800.0, "H200 HBM3e 4.8 TB/s"), ("H100", 3350.0, "H100 SXM HBM3 3.35 TB/s")]
DEFAULT_HBM = HBM[1]


# ---- compute benchmarks ----------------------------------------------------------------------
# Each compute benchmark of go/bench_{blas,sg,ew,fft}_test.go and the peers.py figure it is
# compared with. unit "TFLOP/s": work is floating-point operations per op (2mnk per GEMM);
# "GB/s": work is bytes moved per op, counted as peers.py counts them (FFT C2C 16 per point, R2C
# 8, layout changes 2 x element size per element, sums 4 per element read, add 3 x element size);
# "us": time per call (work None; the peer's ms is per call too). The peer op and params are
# those peers.py emits (PEERS_OF: which peers run it); peer op None: no peer runs it.
def mnk(n):
    return {"m": n, "n": n, "k": n}


def nhwc(n, h, w, c):
    return {"shape": [n, h, w, c]}


def fft1(n, batch):
    return {"n": n, "batch": batch}


COMPUTE = [  # Go benchmark (its name without the leading "Benchmark"), unit, work, peer op, params
    # cuBLAS GEMM (bench_blas_test.go), peers.py group sgemm
    ("GEMM/fp32_1024",                           "TFLOP/s", 2 * 1024**3,             "gemm_fp32",        mnk(1024)),
    ("GEMM/fp32_4096",                           "TFLOP/s", 2 * 4096**3,             "gemm_fp32",        mnk(4096)),
    ("GEMM/fp32_8192",                           "TFLOP/s", 2 * 8192**3,             "gemm_fp32",        mnk(8192)),
    ("GEMM/tf32_1024",                           "TFLOP/s", 2 * 1024**3,             "gemm_tf32",        mnk(1024)),
    ("GEMM/tf32_4096",                           "TFLOP/s", 2 * 4096**3,             "gemm_tf32",        mnk(4096)),
    ("GEMM/tf32_8192",                           "TFLOP/s", 2 * 8192**3,             "gemm_tf32",        mnk(8192)),
    ("GEMM/fp16_1024",                           "TFLOP/s", 2 * 1024**3,             "gemm_fp16",        mnk(1024)),
    ("GEMM/fp16_4096",                           "TFLOP/s", 2 * 4096**3,             "gemm_fp16",        mnk(4096)),
    ("GEMM/fp16_8192",                           "TFLOP/s", 2 * 8192**3,             "gemm_fp16",        mnk(8192)),
    ("GEMM/bf16_1024",                           "TFLOP/s", 2 * 1024**3,             "gemm_bf16",        mnk(1024)),
    ("GEMM/bf16_4096",                           "TFLOP/s", 2 * 4096**3,             "gemm_bf16",        mnk(4096)),
    ("GEMM/bf16_8192",                           "TFLOP/s", 2 * 8192**3,             "gemm_bf16",        mnk(8192)),
    ("GEMM/fp64_1024",                           "TFLOP/s", 2 * 1024**3,             None,               None),
    ("GEMM/fp64_4096",                           "TFLOP/s", 2 * 4096**3,             None,               None),
    ("GEMM/fp64_8192",                           "TFLOP/s", 2 * 8192**3,             None,               None),
    ("GEMMLatency/64",                           "us",      None,                    "gemm_fp32",        mnk(64)),
    ("GEMMLatency/64_graphs",                    "us",      None,                    "gemm_fp32",        mnk(64)),
    # hand-written SGEMM (bench_sg_test.go), against cuBLAS fp32 through torch and cupy
    ("SGEMM/1024",                               "TFLOP/s", 2 * 1024**3,             "gemm_fp32",        mnk(1024)),
    ("SGEMM/4096",                               "TFLOP/s", 2 * 4096**3,             "gemm_fp32",        mnk(4096)),
    # cuFFT (bench_fft_test.go), peers.py group fft (cupy.fft)
    ("FFT/c2c_f32/n=16777216/batch=1",           "GB/s",    16 * (1 << 24),          "fft_c2c_f32",      fft1(1 << 24, 1)),
    ("FFT/c2c_f32/n=4096/batch=4096",            "GB/s",    16 * 4096 * 4096,        "fft_c2c_f32",      fft1(4096, 4096)),
    ("FFT/c2c_f32/n=1024/batch=65536",           "GB/s",    16 * 1024 * 65536,       "fft_c2c_f32",      fft1(1024, 65536)),
    ("FFT/c2c_f32/n=65536/batch=256",            "GB/s",    16 * 65536 * 256,        "fft_c2c_f32",      fft1(65536, 256)),
    ("FFT/r2c_f32/n=16777216/batch=1",           "GB/s",    8 * (1 << 24),           "fft_r2c_f32",      fft1(1 << 24, 1)),
    ("FFT/r2c_f32/n=4096/batch=4096",            "GB/s",    8 * 4096 * 4096,         "fft_r2c_f32",      fft1(4096, 4096)),
    ("FFT/r2c_f32/n=1024/batch=65536",           "GB/s",    8 * 1024 * 65536,        "fft_r2c_f32",      fft1(1024, 65536)),
    ("FFT/r2c_f32/n=65536/batch=256",            "GB/s",    8 * 65536 * 256,         "fft_r2c_f32",      fft1(65536, 256)),
    ("FFT/c2c_f32_2d/512x512/batch=64",          "GB/s",    16 * 512 * 512 * 64,     "fft2_c2c_f32",     {"shape": [512, 512], "batch": 64}),
    # reductions (bench_ew_test.go), peers.py group reduce (sum_f32); 256M is 2^28 in the Go code
    ("Reduce/sum_f32_n=256M",                    "GB/s",    4 * (1 << 28),           "sum_f32",          {"n": 1 << 28}),
    ("Reduce/sum_f32_n=10M",                     "GB/s",    4 * 10_000_000,          "sum_f32",          {"n": 10_000_000}),
    ("Reduce/sum_f32_n=1M",                      "GB/s",    4 * 1_000_000,           None,               None),
    ("Reduce/sum_f32_n=64K",                     "GB/s",    4 * 65_536,              None,               None),
    ("Reduce/sum_f32_n=32K",                     "GB/s",    4 * 32_768,              None,               None),
    ("Reduce/rows_sum_f32_4096x65536",           "GB/s",    4 * 4096 * 65536,        None,               None),
    # elementwise add (bench_ew_test.go), peers.py group vecadd
    ("Elementwise/add_f32_n=256M",               "GB/s",    12 * (1 << 28),          "vecadd_f32",       {"n": 1 << 28}),
    ("Elementwise/add_bf16_n=256M",              "GB/s",    6 * (1 << 28),           None,               None),
    ("Elementwise/add_f32_n=10M",                "GB/s",    12 * 10_000_000,         "vecadd_f32",       {"n": 10_000_000}),
    # layout changes (bench_sg_test.go), peers.py group transpose (shape is N, H, W, C)
    ("Transpose/nhwc_to_nchw_f32_256x224x224x3", "GB/s",    8 * 256 * 224 * 224 * 3, "nhwc_to_nchw_f32", nhwc(256, 224, 224, 3)),
    ("Transpose/nchw_to_nhwc_f32_256x224x224x3", "GB/s",    8 * 256 * 224 * 224 * 3, "nchw_to_nhwc_f32", nhwc(256, 224, 224, 3)),
    ("Transpose/nhwc_to_nchw_f32_256x56x56x64",  "GB/s",    8 * 256 * 56 * 56 * 64,  "nhwc_to_nchw_f32", nhwc(256, 56, 56, 64)),
    ("Transpose/nchw_to_nhwc_f32_256x56x56x64",  "GB/s",    8 * 256 * 56 * 56 * 64,  "nchw_to_nhwc_f32", nhwc(256, 56, 56, 64)),
    ("Transpose/nhwc_to_nchw_f32_64x14x14x1024", "GB/s",    8 * 64 * 14 * 14 * 1024, "nhwc_to_nchw_f32", nhwc(64, 14, 14, 1024)),
    ("Transpose/nchw_to_nhwc_f32_64x14x14x1024", "GB/s",    8 * 64 * 14 * 14 * 1024, "nchw_to_nhwc_f32", nhwc(64, 14, 14, 1024)),
    ("Transpose/nhwc_to_nchw_f16_256x224x224x3", "GB/s",    4 * 256 * 224 * 224 * 3, None,               None),
    ("Transpose/nchw_to_nhwc_f16_256x224x224x3", "GB/s",    4 * 256 * 224 * 224 * 3, None,               None),
    ("Transpose/nhwc_to_nchw_f16_256x56x56x64",  "GB/s",    4 * 256 * 56 * 56 * 64,  None,               None),
    ("Transpose/nchw_to_nhwc_f16_256x56x56x64",  "GB/s",    4 * 256 * 56 * 56 * 64,  None,               None),
    ("Transpose/nhwc_to_nchw_f16_64x14x14x1024", "GB/s",    4 * 64 * 14 * 14 * 1024, None,               None),
    ("Transpose/nchw_to_nhwc_f16_64x14x14x1024", "GB/s",    4 * 64 * 14 * 14 * 1024, None,               None),
    ("Transpose/2d_f32_8192x8192",               "GB/s",    8 * 8192 * 8192,         None,               None),
]
COMPUTE = [("Benchmark" + c[0], *c[1:]) for c in COMPUTE]
COMPUTE_NAMES = {c[0] for c in COMPUTE}
# The compute families bundle-run.sh runs: one not in COMPUTE goes under "Other Go benchmarks",
# never into the transfer table (a "...Latency" benchmark is no round trip).
COMPUTE_FAMILY = re.compile(r"^Benchmark(Elementwise|Cast|Reduce|Transpose|LayoutCopyBound|NHWC|NCHW|"
                            r"SGEMM|GEMM|GEMV|BLAS|FFT)")
# Which peers peers.py runs each op through.
PEERS_OF = {
    "gemm_fp32": ("torch", "cupy"), "gemm_tf32": ("torch",), "gemm_fp16": ("torch",),
    "gemm_bf16": ("torch",),
    "fft_c2c_f32": ("cupy",), "fft_r2c_f32": ("cupy",), "fft2_c2c_f32": ("cupy",),
    "sum_f32": ("torch", "cupy"), "vecadd_f32": ("torch", "cupy"),
    "nhwc_to_nchw_f32": ("torch",), "nchw_to_nhwc_f32": ("torch",),
}
# The metric each unit's benchmarks report themselves (checked against the ns/op figure).
GO_METRIC = {"TFLOP/s": "TFLOP/s", "GB/s": "GB/s", "us": "us/op"}


def read_jsonl(path):
    rows = []
    if not path or not os.path.exists(path):
        return rows
    with open(path, encoding="utf8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return rows


def matches(row, op, params):
    if row.get("op") != op:
        return False
    got = row.get("params") or {}
    return all(got.get(k) == v for k, v in params.items())


def pick(rows, key, who_field, who):
    """The figure (GB/s, or us for the round trip) of one implementation for one op."""
    _, op, params, _, _ = OP_BY_KEY[key]
    vals = []
    for r in rows:
        if r.get(who_field) == who and matches(r, op, params):
            v = r.get("us") if key == "roundtrip" else r.get("gbps")
            if v is not None:
                vals.append(float(v))
    return statistics.median(vals) if vals else None


# ---- Go benchmark output ---------------------------------------------------------------------
BENCH_LINE = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$")


def parse_go(paths):
    """{benchmark name: {unit: median value}} from `go test -bench` output files."""
    runs = {}
    if isinstance(paths, str):
        paths = [paths]
    for path in paths:
        if not path or not os.path.exists(path):
            continue
        with open(path, encoding="utf8", errors="replace") as f:
            lines = f.readlines()
        for line in lines:
            m = BENCH_LINE.match(line.strip())
            if not m:
                continue
            fields = m.group(3).split()
            metrics = {}
            for value, unit in zip(fields[0::2], fields[1::2]):
                try:
                    metrics[unit] = float(value)
                except ValueError:
                    pass
            if "ns/op" in metrics:
                runs.setdefault(m.group(1), []).append(metrics)
    out = {}
    for name, ms in runs.items():
        units = {u for x in ms for u in x}
        out[name] = {u: statistics.median([x[u] for x in ms if u in x]) for u in units}
    return out


def sizes_in(name):
    """Element counts a benchmark name may state: n=10000000, 10M, 256Mi, 1e7, 268435456."""
    out = set()
    for num, suf in re.findall(r"(\d+)(e\d+|mi|m|ki|k)?", name.lower()):
        v = int(num)
        if suf.startswith("e"):
            v *= 10 ** int(suf[1:])
        elif suf == "mi":
            v <<= 20
        elif suf == "m":
            out.add(v << 20)  # 256M may mean 2^28 or 256e6: keep both readings
            v *= 1_000_000
        elif suf == "ki":
            v <<= 10
        elif suf == "k":
            v *= 1000
        out.add(v)
    return out


def classify_go(name):
    """Which row of OPS a Go benchmark measures, or None (listed under 'other')."""
    s = name.lower().removeprefix("benchmark")
    flat = re.sub(r"[^a-z0-9]", "", s)
    if "addongpu" in flat or "cpu" in flat:  # the slice bridge (copies included), CPU loops
        return None
    if "lockedthread" in flat:  # a diagnostic variant of the round trip: listed with it
        return None
    if "roundtrip" in flat or "latency" in flat:
        return "roundtrip"
    if "d2d" in flat or "devicetodevice" in flat:
        return "d2d_copy"
    for tag, key in (("h2d", "h2d"), ("hosttodevice", "h2d"), ("d2h", "d2h"),
                     ("devicetohost", "d2h")):
        if tag in flat:
            if "pageable" in flat or "slice" in flat:
                return key + "_pageable"
            return key + "_pinned"
    if "vecadd" in flat or "vectoradd" in flat:
        n = sizes_in(s)
        if 10_000_000 in n:
            return "vecadd_10m"
        if 1 << 28 in n:
            return "vecadd_256m"
    return None


def roundtrip_breakdown(rt, go):
    """Lines splitting the Go round trip's gap to its C++ twin: the cgo transitions it makes
    (BenchmarkCgoCall, one call into libcudago that does no work) and the same loop on a
    goroutine locked to its OS thread (BenchmarkRoundTripLockedThread)."""
    cgo = go.get("BenchmarkCgoCall", {}).get("ns/op")
    locked = go.get("BenchmarkRoundTripLockedThread", {}).get("ns/op")
    if rt["go"] is None or rt["cpp"] is None or (cgo is None and locked is None):
        return []
    parts = [f"Go over the C++ twin: {rt['go'] - rt['cpp']:+.2f} us "
             f"({rt['go'] / rt['cpp']:.2f}x)"]
    if cgo is not None:
        parts.append(f"the cgo transitions of its two calls (launch, synchronise; "
                     f"BenchmarkCgoCall {cgo:.0f} ns each): {2 * cgo / 1e3:.2f} us")
    if locked is not None:
        parts.append(f"on a goroutine locked to its OS thread: {locked / 1e3:.2f} us "
                     f"({locked / 1e3 / rt['cpp']:.2f}x the twin)")
    return ["", "Round trip: " + "; ".join(parts) + "."]


def go_figures(go):
    """{row key: (benchmark name, GB/s or us, note)} and the benchmarks no row takes."""
    figures, other = {}, []
    for name, m in sorted(go.items()):
        if name in COMPUTE_NAMES:  # the Compute section's (GEMMLatency is no round trip)
            continue
        key = None if COMPUTE_FAMILY.match(name) else classify_go(name)
        if key is None or key in figures:
            other.append((name, m))
            continue
        ns = m["ns/op"]
        if key == "roundtrip":
            figures[key] = (name, ns / 1e3, "")
            continue
        want = OP_BY_KEY[key][4]
        value, note = want / ns, ""
        if "MB/s" in m:
            # Bytes per op the benchmark declared with b.SetBytes. A copy may declare its size
            # (half of what d2d_copy counts); any other size means it measured something else.
            declared = m["MB/s"] * ns / 1e3
            if not any(abs(declared - w) <= 0.05 * w for w in (want, want / 2)):
                value = m["MB/s"] / 1e3
                note = f"{name} moves {declared / MIB:.0f} MiB per op, not {want / MIB:.0f}"
        figures[key] = (name, value, note)
    return figures, other


def peer_figure(rows, peer, op, params, unit):
    """One peer's figure for a COMPUTE row: TFLOP/s, GB/s, or us per call (from its ms)."""
    field = {"TFLOP/s": "tflops", "GB/s": "gbps", "us": "ms"}[unit]
    vals = [float(r[field]) for r in rows
            if r.get("peer") == peer and matches(r, op, params) and r.get(field) is not None]
    if not vals:
        return None
    v = statistics.median(vals)
    return v * 1e3 if unit == "us" else v


def compute_figures(go, peer_rows):
    """{Go benchmark: {"go": figure, peer: figure...}} for each COMPUTE row, and warnings.

    The Go figure comes from ns/op and the row's work; where the benchmark reports the same
    metric itself and it differs by more than 5%, it counted other work: warned about."""
    out, warnings = {}, []
    for name, unit, work, op, params in COMPUTE:
        m = go.get(name)
        v = None
        if m is not None:
            ns = m["ns/op"]
            if ns <= 0:
                v = None
            elif unit == "us":
                v = ns / 1e3
            else:  # work per ns: GB/s, or 1e3 x TFLOP/s
                v = work / ns / (1e3 if unit == "TFLOP/s" else 1)
            own = m.get(GO_METRIC[unit])
            if v is not None and own is not None and abs(own - v) > 0.05 * v:
                warnings.append(f"{name} reports {own:g} {GO_METRIC[unit]}, the report computes "
                                f"{v:.4g} from ns/op: the work counted differs")
        out[name] = {"go": v}
        for peer in PEERS_OF.get(op, ()):
            out[name][peer] = peer_figure(peer_rows, peer, op, params, unit)
    return out, warnings


def compute_targets(cf, d2d_ref):
    """The issue's compute targets, as (name, measured, who, bound, comparison)."""
    def share(k, v):
        return None if v is None else k * v

    targets = []
    for t in ("fp32", "tf32", "fp16", "bf16"):  # cuBLAS from Go against cuBLAS from torch
        for n in (1024, 4096, 8192):
            f = cf[f"BenchmarkGEMM/{t}_{n}"]
            targets.append((f"GEMM {t} {n} >= 98% of torch TFLOP/s", f["go"], "Go",
                            share(0.98, f["torch"]), ">="))
    # The graph replay of small GEMMs is opt-in since 0.2 (SetGEMMGraphReplay): the target is
    # for it; the default path is reported beside it, to decide whether replay should be on.
    f = cf["BenchmarkGEMMLatency/64_graphs"]
    targets.append(("GEMM 64x64x64 fp32 per call with graph replay <= 1/3 of torch's (us)",
                    f["go"], "Go", share(1 / 3, f["torch"]), "<="))
    cublas, src = cf["BenchmarkGEMM/fp32_4096"]["go"], "Go GEMM/fp32_4096"
    if cublas is None:
        cublas, src = cf["BenchmarkGEMM/fp32_4096"]["torch"], "torch gemm_fp32"
    targets.append((f"SGEMM 4096 >= 70% of cuBLAS fp32 TFLOP/s ({src})",
                    cf["BenchmarkSGEMM/4096"]["go"], "Go", share(0.7, cublas), ">="))
    for name, _, _, op, _ in COMPUTE:
        short = name.removeprefix("Benchmark")
        if op in ("fft_c2c_f32", "fft_r2c_f32", "fft2_c2c_f32"):
            targets.append((f"{short} >= 98% of cupy.fft GB/s", cf[name]["go"], "Go",
                            share(0.98, cf[name]["cupy"]), ">="))
    targets.append(("Reduce/sum_f32_n=256M (GB/s read) >= 90% of measured D2D copy GB/s",
                    cf["BenchmarkReduce/sum_f32_n=256M"]["go"], "Go", share(0.9, d2d_ref), ">="))
    for name, _, _, op, _ in COMPUTE:
        short = name.removeprefix("Benchmark")
        if op in ("nhwc_to_nchw_f32", "nchw_to_nhwc_f32"):
            targets.append((f"{short} >= 80% of measured D2D copy GB/s", cf[name]["go"], "Go",
                            share(0.8, d2d_ref), ">="))
    return targets


def layout_bound_lines(cf, go):
    """Each f32 layout change beside a D2D copy of its own size (BenchmarkLayoutCopyBound): the
    1 GiB copy overstates what a tensor about the size of the L2 can reach."""
    parts = []
    for name, _, work, _, _ in COMPUTE:
        m = re.match(r"BenchmarkTranspose/(nhwc_to_nchw|nchw_to_nhwc)_f32_(\d+x\d+x\d+x\d+)$", name)
        if not m:
            continue
        copy = go.get(f"BenchmarkLayoutCopyBound/f32_{m.group(2)}", {}).get("ns/op")
        t = cf[name]["go"]
        if copy is None or t is None:
            continue
        copy_gbps = work / copy
        parts.append(f"{m.group(1)} {m.group(2)} {t:,.1f} GB/s, {t / copy_gbps:.2f}x a "
                     f"{work / 2 / 1e6:.1f} MB copy ({copy_gbps:,.1f} GB/s)")
    if not parts:
        return []
    return ["", "Layout changes against a D2D copy of their own size: " + "; ".join(parts) + "."]


def compute_section(cf, warnings, d2d_ref):
    lines = ["", "## Compute", ""]
    lines.append("Go figures from ns/op and the work peers.py counts for the same operation: "
                 "TFLOP/s = 2mnk per GEMM; GB/s = bytes read + written (FFT C2C 16 per point, "
                 "R2C 8; layout changes 2 x element size), read only for sums (4 per element), "
                 "12 per element for add f32; us = time per call, launch included (lower is "
                 "better, so is a Go/torch below 1). Peers from the same run: torch (cuBLAS for "
                 "GEMM), cupy (cuFFT for FFT); an empty cell: that peer does not run the "
                 "operation.")
    lines.append("")
    lines.append("| benchmark | unit | Go | torch | cupy | Go/torch | Go/cupy | Go/D2D copy |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
    unmeasured = []
    for name, unit, _, op, _ in COMPUTE:
        f = cf[name]
        if all(v is None for v in f.values()):
            unmeasured.append(name.removeprefix("Benchmark"))
            continue
        digits = 2 if unit == "us" else 1
        peers = ("torch", "cupy")  # an empty cell: that peer does not run this operation
        cells = [unit, fmt(f["go"], digits)]
        cells += [fmt(f[p], digits) if p in f else "" for p in peers]
        cells += [fmt(ratio(f["go"], f[p]), 2) if p in f else "" for p in peers]
        cells.append(fmt(ratio(f["go"], d2d_ref), 2) if unit == "GB/s" else "")
        lines.append(f"| {name.removeprefix('Benchmark')} | " + " | ".join(cells) + " |")
    if unmeasured:
        lines.append("")
        lines.append("No figure at all, from Go or a peer (not run, failed, or renamed): "
                     + ", ".join(unmeasured))
    for w in warnings:
        lines.append(f"- warning: {w}")
    return lines


# ---- report ----------------------------------------------------------------------------------
def fmt(v, digits=1):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def targets_table(heading, tally, targets):
    """A "## heading" table of (name, measured, who, bound, comparison[, "informational"]),
    PASS or MISS each; an informational target says so and is left out of the tally."""
    lines = ["", f"## {heading}", ""]
    lines.append("| target | measured | bound | result |")
    lines.append("|---|---:|---:|---|")
    n_pass = n_miss = n_na = n_info = 0
    for name, value, who, bound, cmp, *info in targets:
        if value is None or bound is None:
            result = "n/a (missing figure)"
            n_na += not info
        elif (value >= bound) if cmp == ">=" else (value <= bound):
            result = "PASS"
            n_pass += not info
        else:
            result = "MISS"
            n_miss += not info
        if info:
            result += " (informational, not counted)"
            n_info += 1
        lines.append(f"| {name} | {fmt(value, 2)} ({who}) | {cmp} {fmt(bound, 2)} | {result} |")
    lines.append("")
    lines.append(f"{tally}: {n_pass} PASS, {n_miss} MISS, {n_na} n/a"
                 + (f" ({n_info} informational not counted)" if n_info else ""))
    return lines


def graph_section(go, cpp_rows, peer_rows):
    """1000 tiny kernels one by one and as one graph replay: Go, the C++ twin, CuPy, PyTorch."""
    def go_us(sub):
        m = go.get(f"BenchmarkGraphTinyKernels/{sub}")
        return m.get("µs/kernel") if m else None

    def row_us(rows, field, who, launch):
        for r in rows:
            if r.get(field) != who:
                continue
            if r.get("op") == "graph_tiny_kernels" and r.get("params", {}).get("launch") == launch:
                return r.get("us_per_kernel")
            if r.get("op") == "tiny_" + launch:
                return r.get("us_per_kernel")
        return None

    cells = {
        "one_by_one": [go_us("OneByOne"), row_us(cpp_rows, "impl", "cudago-cpp", "one_by_one"),
                       row_us(peer_rows, "peer", "cupy", "one_by_one"),
                       row_us(peer_rows, "peer", "torch", "one_by_one")],
        "graph": [go_us("Graph"), row_us(cpp_rows, "impl", "cudago-cpp", "graph"),
                  row_us(peer_rows, "peer", "cupy", "graph"),
                  row_us(peer_rows, "peer", "torch", "graph")],
        "graph_empty": [go_us("GraphEmptyKernel"), None,
                        row_us(peer_rows, "peer", "cupy", "graph_empty"), None],
    }
    if not any(v is not None for vs in cells.values() for v in vs):
        return []
    out = ["", "## CUDA Graphs", "",
           "1000 tiny kernels (one thread adds 1 to a float; torch: `add_` on one element), each "
           "way ended by a synchronize; microseconds per kernel, wall clock (lower is better).",
           "", "| launch | Go | C++ | cupy | torch | Go/C++ | Go/cupy | Go/torch |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, key in (("one by one", "one_by_one"), ("one graph replay", "graph"),
                       ("one graph replay, empty kernels", "graph_empty")):
        g, c, cu, t = cells[key]
        out.append(f"| {label} | {fmt(g, 3)} | {fmt(c, 3)} | {fmt(cu, 3)} | {fmt(t, 3)} | "
                   f"{fmt(ratio(g, c), 2)} | {fmt(ratio(g, cu), 2)} | {fmt(ratio(g, t), 2)} |")
    g1, gg = cells["one_by_one"][0], cells["graph"][0]
    if g1 and gg:
        out.append("")
        out.append(f"Go: the graph replay is {g1 / gg:.1f}x faster per kernel than launching one "
                   f"by one.")
    return out


# ---- CNN runtime (ResNet-50) -----------------------------------------------------------------
# bench_nn (bench-nn.jsonl) prints one row per precision and batch: {"op": "<model>_<prec>",
# "impl": "cudago", "params": {"batch"}, "ms", "img_per_s", "gpu_mem_bytes", "arena_bytes",
# "arena_lower_bound", "weight_bytes", "layers", "parse_s", "lower_s", "plan_s", "tune_s"};
# peers.py's groups resnet50 and resnet50_compile print {"op": "resnet50_<prec>", "peer":
# "torch-eager" | "torch-cudagraph" | "torch-compile", "params": {"batch", ...}, "ms",
# "img_per_s", "gpu_mem_bytes"[, "compile_s"]}, or the same with "error" or "skip".
NN_PRECISIONS = ("fp16", "bf16", "fp32")
NN_BATCHES = (1, 8, 32, 128, 256)
NN_PEERS = ("torch-eager", "torch-compile", "torch-cudagraph")
NN_CUDAGO_OP = re.compile(r"^resnet50\w*_(fp16|bf16|fp32)$")


def row_batch(r):
    """The batch of a CNN row: params.batch (older peers.py rows put it at the top level)."""
    b = (r.get("params") or {}).get("batch", r.get("batch"))
    return b if isinstance(b, int) and not isinstance(b, bool) else None


def median_of(rows, field):
    vals = [float(r[field]) for r in rows
            if isinstance(r.get(field), (int, float)) and not isinstance(r.get(field), bool)]
    return statistics.median(vals) if vals else None


def nn_figure(rows, batch):
    """{"ms", "img_per_s", ...} of the rows of one configuration (medians over repeated runs);
    ms and img/s each from the other where a row gives only one."""
    ok = [r for r in rows if "error" not in r and "skip" not in r]
    f = {k: median_of(ok, k) for k in ("ms", "img_per_s", "gpu_mem_bytes", "compile_s",
                                       "arena_bytes", "arena_lower_bound", "weight_bytes",
                                       "layers", "parse_s", "lower_s", "plan_s", "tune_s")}
    if f["img_per_s"] is None and f["ms"]:
        f["img_per_s"] = batch / f["ms"] * 1e3
    if f["ms"] is None and f["img_per_s"]:
        f["ms"] = batch / f["img_per_s"] * 1e3
    return f


def nn_collect(nn_rows, peer_rows):
    """{(who, prec, batch): figure} for cudago and each peer, and notes (errors, skips)."""
    groups, notes = {}, []
    for r in nn_rows:
        m = NN_CUDAGO_OP.match(str(r.get("op", "")))
        if r.get("impl") == "cudago" and m and row_batch(r) is not None:
            groups.setdefault(("cudago", m.group(1), row_batch(r)), []).append(r)
        elif "skip" in r or "error" in r:
            notes.append(f"bench_nn: {r.get('skip') or r.get('error')}")
    for r in peer_rows:
        op = str(r.get("op", ""))
        if r.get("peer") not in NN_PEERS or not op.startswith("resnet50_"):
            continue
        prec = op.removeprefix("resnet50_")
        batch = row_batch(r)
        for key in ("error", "skip"):
            if key in r:
                notes.append(f"{r['peer']} {prec} batch {batch}: {key}: {r[key]}")
        if batch is not None and prec in NN_PRECISIONS:
            groups.setdefault((r["peer"], prec, batch), []).append(r)
    figs = {k: nn_figure(rows, k[2]) for k, rows in groups.items()}
    return figs, notes


def nn_mib(v):
    return None if v is None else v / MIB


def nn_section(nn_rows, peer_rows, nn_path):
    """The CNN tables and their targets (a list of lines; the targets as tuples)."""
    figs, notes = nn_collect(nn_rows, peer_rows)
    empty = {"ms": None, "img_per_s": None}

    def get(who, prec, batch, field):
        return figs.get((who, prec, batch), empty).get(field)

    lines = ["", "## CNN (ResNet-50)", ""]
    have_cudago = any(k[0] == "cudago" for k in figs)
    have_peer = {p: any(k[0] == p for k in figs) for p in NN_PEERS}
    missing = []
    if not have_cudago:
        if not nn_path or not os.path.exists(nn_path):
            missing.append(f"{os.path.basename(nn_path or 'bench-nn.jsonl')} is missing (step "
                           "bench_nn not run): no cudago figures")
        else:
            missing.append(f"{os.path.basename(nn_path)} has no ResNet-50 row (bench_nn failed, "
                           "skipped or benchmarked another model): no cudago figures")
    if not have_peer["torch-eager"]:
        missing.append("peers.jsonl has no torch-eager ResNet-50 row (step peers_resnet50 not run "
                       "or failed)")
    if not have_peer["torch-compile"]:
        missing.append("no torch-compile row (step peers_resnet50_compile runs with "
                       "RUN_COMPILE=1, best in a run of its own)")
    if not figs:
        lines.append("No ResNet-50 figure at all: no CNN table, no CNN targets.")
        lines += [f"- {m}" for m in missing] + [f"- {n}" for n in notes]
        return lines, []

    for r in nn_rows:
        if "cudago" in r and "model" in r:
            lines.append(f"- cudago {r['cudago']}: bench_nn on {os.path.basename(r['model'])}, "
                         "over the C ABI on one stream (input conversion, CUDA graph, output "
                         "conversion), device buffers")
            break
    for r in peer_rows:
        if "resnet50_model" in r:
            lines.append(f"- PyTorch peers: ResNet-50 from {r['resnet50_model']}, cuDNN "
                         f"{r.get('cudnn')}; eager: channels_last, inference_mode, "
                         "cudnn.benchmark on, fp32 with TF32 off; compile: max-autotune, "
                         "static shapes; cudagraph: eager fp16 captured and replayed")
            break
    lines += [f"- missing: {m}" for m in missing]
    lines.append("")
    lines.append("img/s = batch / time per batch; ratios are cudago img/s over the peer's "
                 "(above 1: cudago faster). Peer figures come from the same run. An empty cell: "
                 "not measured (torch.compile and the CUDA graph run at batch 1 and 256 only); "
                 "n/a: the run failed or was skipped (see the notes below).")

    for prec in NN_PRECISIONS:
        batches = sorted({k[2] for k in figs if k[1] == prec} | set(NN_BATCHES))
        if not any(k[1] == prec for k in figs):
            continue
        lines += ["", f"### {prec}", ""]
        lines.append("| batch | cudago img/s | cudago ms | torch-eager img/s | cudago/eager | "
                     "torch-compile img/s | cudago/compile | torch-cudagraph ms |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for b in batches:
            ran = {w: (w, prec, b) in figs for w in ("cudago",) + NN_PEERS}
            if not any(ran.values()):
                continue

            def cell(who, field, digits):
                return fmt(get(who, prec, b, field), digits) if ran[who] else ""

            def vs(peer):
                if not (ran["cudago"] and ran[peer]):
                    return ""
                return fmt(ratio(get("cudago", prec, b, "img_per_s"),
                                 get(peer, prec, b, "img_per_s")), 2)

            lines.append(f"| {b} | {cell('cudago', 'img_per_s', 0)} | {cell('cudago', 'ms', 3)} | "
                         f"{cell('torch-eager', 'img_per_s', 0)} | {vs('torch-eager')} | "
                         f"{cell('torch-compile', 'img_per_s', 0)} | {vs('torch-compile')} | "
                         f"{cell('torch-cudagraph', 'ms', 3)} |")

    compile_s = [(b, get("torch-compile", "fp16", b, "compile_s"))
                 for b in sorted({k[2] for k in figs if k[0] == "torch-compile"})]
    compile_s = [(b, v) for b, v in compile_s if v is not None]
    if compile_s:
        lines.append("")
        lines.append("torch.compile time (first call: tracing, autotuning, code generation): "
                     + ", ".join(f"batch {b}: {fmt(s, 0)} s" for b, s in compile_s))

    # cudago's memory and load time, one line per precision (the model is loaded once per
    # precision, planned for the largest batch).
    mem = []
    for prec in NN_PRECISIONS:
        bs = sorted(k[2] for k in figs if k[0] == "cudago" and k[1] == prec)
        if not bs:
            continue
        f = figs[("cudago", prec, bs[-1])]
        eager_mem = get("torch-eager", prec, bs[-1], "gpu_mem_bytes")
        mem.append((prec, bs[-1], f, eager_mem))
    if mem:
        lines += ["", "### cudago memory and load time", ""]
        lines.append("Arena: the activation arena of the largest batch's plan, against the "
                     "liveness lower bound (the largest set of tensors alive at once). GPU: device "
                     "memory used from before the load to after the largest batch's runs "
                     "(weights, arena, workspaces, buffers). torch-eager: its peak allocated "
                     "during that batch's runs less what was allocated before (weights and "
                     "input excluded).")
        lines.append("")
        lines.append("| precision | layers | weights MiB | arena MiB | bound MiB | arena/bound | "
                     "GPU MiB (batch) | torch-eager MiB | parse s | lower s | plan s | tune s |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for prec, b, f, eager_mem in mem:
            lines.append(
                f"| {prec} | {fmt(f['layers'], 0)} | {fmt(nn_mib(f['weight_bytes']))} | "
                f"{fmt(nn_mib(f['arena_bytes']))} | {fmt(nn_mib(f['arena_lower_bound']))} | "
                f"{fmt(ratio(f['arena_bytes'], f['arena_lower_bound']), 2)} | "
                f"{fmt(nn_mib(f['gpu_mem_bytes']))} ({b}) | {fmt(nn_mib(eager_mem))} | "
                f"{fmt(f['parse_s'], 2)} | {fmt(f['lower_s'], 2)} | {fmt(f['plan_s'], 2)} | "
                f"{fmt(f['tune_s'], 2)} |")
    if notes:
        lines.append("")
        lines += [f"- {n}" for n in notes]

    # The targets.
    def scaled(k, v):
        return None if v is None else k * v

    c256 = get("cudago", "fp16", 256, "img_per_s")
    targets = [
        ("ResNet-50 fp16 batch 256 img/s >= 1.5x PyTorch eager fp16 channels_last", c256,
         "cudago", scaled(1.5, get("torch-eager", "fp16", 256, "img_per_s")), ">="),
        ("ResNet-50 fp16 batch-1 latency <= 1.0 ms", get("cudago", "fp16", 1, "ms"), "cudago",
         1.0, "<="),
    ]
    for prec, _, f, _ in mem or [("fp16", None, {"arena_bytes": None,
                                                 "arena_lower_bound": None}, None)]:
        targets.append((f"activation arena <= 1.2x the liveness bound ({prec}, MiB)",
                        nn_mib(f["arena_bytes"]), "cudago",
                        scaled(1.2, nn_mib(f["arena_lower_bound"])), "<="))
    targets.append(("ResNet-50 fp16 batch 256, cudago over torch.compile max-autotune img/s "
                    "(aim >= 1.0x)", ratio(c256, get("torch-compile", "fp16", 256, "img_per_s")),
                    "cudago/compile", 1.0, ">=", "informational"))
    return lines, targets


def build_report(go_path, cpp_path, peers_path, nn_path=None):
    cpp_rows, peer_rows = read_jsonl(cpp_path), read_jsonl(peers_path)
    nn_rows = read_jsonl(nn_path)
    go = parse_go(go_path)
    go_fig, go_other = go_figures(go)
    lines = []
    device = next((r["device"] for r in cpp_rows + peer_rows + nn_rows if "device" in r), None)
    hbm = next((h for h in HBM if device and h[0] in device), DEFAULT_HBM)
    skips = [r["skip"] for r in cpp_rows if "skip" in r]

    lines.append("# cudago benchmark report")
    lines.append("")
    lines.append(f"- device: {device or 'unknown'}")
    for r in cpp_rows:
        if "cudago" in r:
            lines.append(f"- cudago {r['cudago']}, CUDA runtime {r.get('cuda_runtime')}, "
                         f"driver {r.get('cuda_driver')}")
    for r in peer_rows:  # one header per peers.py run: each version once
        line = f"- peers: torch {r['torch']}, cupy {r.get('cupy')}" if "torch" in r else None
        if line and line not in lines:
            lines.append(line)
    for s in skips:
        lines.append(f"- bench_capi skipped: {s}")
    go_compute = any(name in COMPUTE_NAMES for name in go)
    lines.append(f"- sources: Go {'yes' if go_fig or go_other or go_compute else 'none'}, "
                 f"C++ {'yes' if any('op' in r for r in cpp_rows) else 'none'}, "
                 f"peers {'yes' if any('op' in r for r in peer_rows) else 'none'}, "
                 f"CNN {'yes' if any('op' in r for r in nn_rows) else 'none'}")

    fig = {}
    for key, *_ in OPS:
        fig[key] = {
            "go": go_fig.get(key, (None, None, ""))[1],
            "cpp": pick(cpp_rows, key, "impl", "cudago-cpp"),
            "raw": pick(cpp_rows, key, "impl", "cuda-raw"),
            "torch": pick(peer_rows, key, "peer", "torch"),
            "cupy": pick(peer_rows, key, "peer", "cupy"),
        }
    d2d_ref = fig["d2d_copy"]["raw"] or fig["d2d_copy"]["torch"]
    d2d_src = ("raw cudaMemcpyAsync" if fig["d2d_copy"]["raw"]
               else "torch copy_" if fig["d2d_copy"]["torch"] else "not measured")

    lines.append(f"- measured D2D copy bandwidth (reference): {fmt(d2d_ref)} GB/s ({d2d_src}); "
                 f"datasheet: {hbm[2]}")
    lines.append("")
    lines.append("GB/s = 1e9 bytes/s moved (D2D: read+write; vecadd: 12 bytes per element); "
                 "round trip in microseconds per operation.")
    lines.append("")
    lines.append("| op | Go | C++ | CUDA raw | torch | cupy | Go/torch | Go/D2D copy | Go/HBM |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, _, _, label, _ in OPS:
        f = fig[key]
        if key == "roundtrip":
            cells = [fmt(f["go"], 2), fmt(f["cpp"], 2), fmt(f["raw"], 2), fmt(f["torch"], 2),
                     fmt(f["cupy"], 2), "", "", ""]
        else:
            on_device = key.startswith(("d2d", "vecadd"))  # memory-bound on the device
            cells = [fmt(f["go"]), fmt(f["cpp"]), fmt(f["raw"]), fmt(f["torch"]), fmt(f["cupy"]),
                     fmt(ratio(f["go"], f["torch"]), 2),
                     fmt(ratio(f["go"], d2d_ref), 2) if on_device else "",
                     fmt(ratio(f["go"], hbm[1]), 2) if on_device else ""]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    lines.append("")
    lines.append("Pageable rows: peers.py copies from an untouched `torch.empty` tensor, whose pages "
                 "are likely all the kernel's shared zero page (cache-resident on the host side), "
                 "while cudago and CUDA raw copy written memory; compare pageable figures with "
                 "the CUDA raw column. Host-copy figures vary by several percent between runs.")
    lines += roundtrip_breakdown(fig["roundtrip"], go)

    # Targets. Each measures the Go figure; where no Go figure exists the C++ one stands in,
    # marked as such.
    def go_or_cpp(key):
        if fig[key]["go"] is not None:
            return fig[key]["go"], "Go"
        if fig[key]["cpp"] is not None:
            return fig[key]["cpp"], "C++ (no Go figure)"
        return None, "Go"

    targets = []
    v, who = go_or_cpp("vecadd_256m")
    targets.append(("vecadd f32 n=256Mi >= 90% of measured D2D copy GB/s", v, who,
                    None if d2d_ref is None else 0.9 * d2d_ref, ">="))
    v, who = go_or_cpp("vecadd_10m")
    targets.append(("vecadd f32 n=10M >= torch.add GB/s", v, who, fig["vecadd_10m"]["torch"],
                    ">="))
    v, who = go_or_cpp("h2d_pinned")
    t = fig["h2d_pinned"]["torch"]
    targets.append(("pinned H2D >= 95% of torch pinned H2D GB/s", v, who,
                    None if t is None else 0.95 * t, ">="))
    c = fig["roundtrip"]["cpp"]
    targets.append(("Go round trip <= 1.25x the C++ round trip (us)", fig["roundtrip"]["go"], "Go",
                    None if c is None else 1.25 * c, "<="))

    lines += targets_table("Targets", "targets", targets)

    if go_compute:
        cf, cf_warnings = compute_figures(go, peer_rows)
        lines += compute_section(cf, cf_warnings, d2d_ref)
        lines += layout_bound_lines(cf, go)
        lines += targets_table("Targets (compute)", "compute targets", compute_targets(cf, d2d_ref))
    else:
        lines += ["", "## Compute", "", "No figure from the Go compute benchmarks of table COMPUTE "
                  "(bench-go-compute.txt missing or empty): no compute table, no compute targets."]

    lines += graph_section(go, cpp_rows, peer_rows)

    nn_lines, nn_targets = nn_section(nn_rows, peer_rows, nn_path)
    lines += nn_lines
    if nn_targets:
        lines += targets_table("Targets (CNN)", "CNN targets", nn_targets)

    if go_other:
        lines.append("")
        lines.append("## Other Go benchmarks")
        lines.append("")
        lines.append("| benchmark | ns/op | MB/s | other |")
        lines.append("|---|---:|---:|---|")
        for name, m in go_other:
            rest = ", ".join(f"{v:g} {u}" for u, v in sorted(m.items())
                             if u not in ("ns/op", "MB/s"))
            lines.append(f"| {name} | {fmt(m.get('ns/op'), 0)} | {fmt(m.get('MB/s'))} | {rest} |")
    if go_fig:
        lines.append("")
        lines.append("Go benchmarks used: " + ", ".join(f"{k} <- {n}"
                                                       for k, (n, _, _) in sorted(go_fig.items())))
        for _, _, note in go_fig.values():
            if note:
                lines.append(f"- warning: {note}; its GB/s is taken from its MB/s")

    has_data = bool(go or any("op" in r for r in cpp_rows + peer_rows + nn_rows))
    return "\n".join(lines) + "\n", has_data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", help="folder holding bench-go.txt, bench-cpp.jsonl, peers.jsonl, "
                    "bench-nn.jsonl; bench.md is written there")
    ap.add_argument("--go")
    ap.add_argument("--cpp")
    ap.add_argument("--peers")
    ap.add_argument("--nn", help="bench_nn output (default: bench-nn.jsonl in --dir)")
    ap.add_argument("--md", help="where to write the Markdown report")
    a = ap.parse_args()
    d = a.dir or os.environ.get("OUT") or "."
    go = [a.go] if a.go else sorted(glob.glob(os.path.join(d, "bench-go*.txt")))
    cpp = a.cpp or os.path.join(d, "bench-cpp.jsonl")
    peers = a.peers or os.path.join(d, "peers.jsonl")
    nn = a.nn or os.path.join(d, "bench-nn.jsonl")
    md = a.md or os.path.join(d, "bench.md")

    report, has_data = build_report(go, cpp, peers, nn)
    sys.stdout.write(report)
    try:
        with open(md, "w", encoding="utf8") as f:
            f.write(report)
    except OSError as e:
        print(f"bench-report: cannot write {md}: {e}", file=sys.stderr)
        return 1
    if not has_data:
        # Not a failure: a run whose selection (RUN_ONLY) has no step the report reads (the
        # steps that failed to make their figures failed themselves).
        print("bench-report: no benchmark figures found: nothing to report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
