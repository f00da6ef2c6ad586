#!/usr/bin/env python3
"""Peer figures for cudago's graph benchmark, measured on the GPU in the same run.

1000 tiny kernels that each add 1 to one float, queued one by one and replayed from one CUDA
graph, in CuPy (a RawKernel, the same kernel source as cudago's benchmark) and PyTorch
(Tensor.add_ on a one-element tensor, its cheapest kernel launch). Each figure is wall-clock
microseconds per kernel including a final synchronize, the median of 5 repetitions (CuPy also
replays a graph of 1000 empty kernels: the GPU's floor per node). Prints
one JSON line per figure; a missing package prints an "error" line instead.
"""
import json
import statistics
import time

KERNELS = 1000


def timed(fn, sync, reps=5, inner=20):
    fn()
    sync()
    per = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        per.append((time.perf_counter() - t0) / inner / KERNELS * 1e6)
    return statistics.median(per)


def emit(peer, op, us, check):
    print(json.dumps({"peer": peer, "op": op, "kernels": KERNELS, "us_per_kernel": round(us, 4),
                      "check": check}), flush=True)


def cupy_figures():
    import cupy as cp
    k = cp.RawKernel(r'extern "C" __global__ void bump(float* p) { p[0] += 1.0f; }', "bump")
    p = cp.zeros(1, dtype=cp.float32)
    s = cp.cuda.Stream(non_blocking=True)

    def eager():
        for _ in range(KERNELS):
            k((1,), (1,), (p,), stream=s)

    us = timed(eager, s.synchronize)
    emit("cupy", "tiny_one_by_one", us, float(p.get()[0]))
    p.fill(0)
    s.synchronize()
    s.begin_capture()
    eager()
    g = s.end_capture()
    g.upload(s)
    us = timed(lambda: g.launch(s), s.synchronize)
    emit("cupy", "tiny_graph", us, float(p.get()[0]))
    # The same with an empty kernel: no kernel waits for another's store.
    e = cp.RawKernel(r'extern "C" __global__ void noop(float*) {}', "noop")
    s.begin_capture()
    for _ in range(KERNELS):
        e((1,), (1,), (p,), stream=s)
    ge = s.end_capture()
    ge.upload(s)
    us = timed(lambda: ge.launch(s), s.synchronize)
    emit("cupy", "tiny_graph_empty", us, None)


def torch_figures():
    import torch
    p = torch.zeros(1, device="cuda")

    def eager():
        for _ in range(KERNELS):
            p.add_(1.0)

    us = timed(eager, torch.cuda.synchronize)
    emit("torch", "tiny_one_by_one", us, float(p.item()))
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        eager()
    torch.cuda.current_stream().wait_stream(side)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        eager()
    us = timed(g.replay, torch.cuda.synchronize)
    emit("torch", "tiny_graph", us, float(p.item()))


for name, fn in (("cupy", cupy_figures), ("torch", torch_figures)):
    try:
        fn()
    except Exception as e:  # a peer that cannot run is reported, not fatal
        print(json.dumps({"peer": name, "error": repr(e)}), flush=True)
