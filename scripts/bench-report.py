#!/usr/bin/env python3
"""One table from cudago's benchmarks and the peers' figures, with the issue's targets.

Reads, from one GPU run (bundle/run.sh writes them to $OUT):
  bench-go.txt     output of `cudago.test -test.bench .` (Go benchmarks)
  bench-cpp.jsonl  output of bench_capi (C++ over the C ABI, and raw CUDA references)
  peers.jsonl      output of peers.py (PyTorch and CuPy)
and prints a Markdown report (also written to bench.md): for each operation the Go, C++,
raw-CUDA, torch and cupy figures, Go over torch, and Go over the measured device-to-device
copy bandwidth and over the datasheet HBM bandwidth; then each target with PASS or MISS.

GB/s everywhere is 1e9 bytes per second of the bytes the operation must move: H2D/D2H the
copy size, d2d_copy bytes read plus written (2 x size), vecadd_f32 12 bytes per element.
Go figures are recomputed from ns/op with those byte counts, so they do not depend on what each
benchmark passed to b.SetBytes.

  python3 bench-report.py --dir $OUT
  python3 bench-report.py --go bench-go.txt --cpp bench-cpp.jsonl --peers peers.jsonl
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


def go_figures(go):
    """{row key: (benchmark name, GB/s or us, note)} and the benchmarks no row takes."""
    figures, other = {}, []
    for name, m in sorted(go.items()):
        key = classify_go(name)
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


# ---- report ----------------------------------------------------------------------------------
def fmt(v, digits=1):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def build_report(go_path, cpp_path, peers_path):
    cpp_rows, peer_rows = read_jsonl(cpp_path), read_jsonl(peers_path)
    go_fig, go_other = go_figures(parse_go(go_path))
    lines = []
    device = next((r["device"] for r in cpp_rows + peer_rows if "device" in r), None)
    hbm = next((h for h in HBM if device and h[0] in device), DEFAULT_HBM)
    skips = [r["skip"] for r in cpp_rows if "skip" in r]

    lines.append("# cudago benchmark report")
    lines.append("")
    lines.append(f"- device: {device or 'unknown'}")
    for r in cpp_rows:
        if "cudago" in r:
            lines.append(f"- cudago {r['cudago']}, CUDA runtime {r.get('cuda_runtime')}, "
                         f"driver {r.get('cuda_driver')}")
    for r in peer_rows:
        if "torch" in r:
            lines.append(f"- peers: torch {r['torch']}, cupy {r.get('cupy')}")
    for s in skips:
        lines.append(f"- bench_capi skipped: {s}")
    lines.append(f"- sources: Go {'yes' if go_fig or go_other else 'none'}, "
                 f"C++ {'yes' if any('op' in r for r in cpp_rows) else 'none'}, "
                 f"peers {'yes' if any('op' in r for r in peer_rows) else 'none'}")

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

    lines.append("")
    lines.append("## Targets")
    lines.append("")
    lines.append("| target | measured | bound | result |")
    lines.append("|---|---:|---:|---|")
    n_pass = n_miss = n_na = 0
    for name, value, who, bound, cmp in targets:
        if value is None or bound is None:
            result = "n/a (missing figure)"
            n_na += 1
        elif (value >= bound) if cmp == ">=" else (value <= bound):
            result = "PASS"
            n_pass += 1
        else:
            result = "MISS"
            n_miss += 1
        lines.append(f"| {name} | {fmt(value, 2)} ({who}) | {cmp} {fmt(bound, 2)} | {result} |")
    lines.append("")
    lines.append(f"targets: {n_pass} PASS, {n_miss} MISS, {n_na} n/a")

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

    has_data = bool(go_fig or go_other or any("op" in r for r in cpp_rows + peer_rows))
    return "\n".join(lines) + "\n", has_data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", help="folder holding bench-go.txt, bench-cpp.jsonl, peers.jsonl; "
                    "bench.md is written there")
    ap.add_argument("--go")
    ap.add_argument("--cpp")
    ap.add_argument("--peers")
    ap.add_argument("--md", help="where to write the Markdown report")
    a = ap.parse_args()
    d = a.dir or os.environ.get("OUT") or "."
    go = [a.go] if a.go else sorted(glob.glob(os.path.join(d, "bench-go*.txt")))
    cpp = a.cpp or os.path.join(d, "bench-cpp.jsonl")
    peers = a.peers or os.path.join(d, "peers.jsonl")
    md = a.md or os.path.join(d, "bench.md")

    report, has_data = build_report(go, cpp, peers)
    sys.stdout.write(report)
    try:
        with open(md, "w", encoding="utf8") as f:
            f.write(report)
    except OSError as e:
        print(f"bench-report: cannot write {md}: {e}", file=sys.stderr)
        return 1
    if not has_data:
        print("bench-report: no benchmark figures found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
