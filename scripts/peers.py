#!/usr/bin/env python3
"""Peer figures on the GPU machine, for side-by-side ratios in the same device run.

The project's own copy (scripts/peers.py; scripts/gpu-bundle.sh puts it in bundle/peers/).
Runs the same work through PyTorch and CuPy (both installed on the GPU machine) and prints
one JSON object per line: {"op", "peer", "params", "ms", "gbps"|"tflops"|"img_per_s"}. The
first line is a header: {"device", "torch", "cupy"}, with "resnet50_model" and "cudnn" when a
ResNet-50 group runs.

  python3 peers.py                 # every group but resnet50_compile
  python3 peers.py vecadd sgemm    # only some groups
  python3 peers.py --list

Groups: copy, vecadd, reduce, h2d, sgemm, fft, transpose, resnet50, resnet50_compile.
Timing: CUDA events around N repetitions after warm-up; median of 5 such rounds.

ResNet-50 (v1.5, 224x224 inputs, random weights; torchvision's model when torchvision imports,
else the same network written below with torch.nn: the header's "resnet50_model" says which):
  resnet50          PyTorch eager, channels_last, torch.inference_mode(), cudnn.benchmark on,
                    in fp16, bf16 and fp32 (TF32 off for convolutions and matmuls) at batch 1,
                    8, 32, 128, 256 (peer "torch-eager"); then the fp16 model captured in a CUDA
                    graph and replayed, batch 1 and 256 (peer "torch-cudagraph").
  resnet50_compile  torch.compile(mode="max-autotune", dynamic=False), fp16 channels_last,
                    cudnn.benchmark on, under torch.no_grad(), batch 256 then 1 (peer
                    "torch-compile"), each row with the compile time "compile_s" (the first
                    call: tracing, autotuning, code generation). It takes minutes per shape: a
                    compile is skipped (a row with "skip") where the seconds since the group
                    began plus the longest compile so far reach PEERS_COMPILE_BUDGET_S (default
                    420); PEERS_COMPILE_BATCHES=1 (or 256,1, ...) picks the batch sizes
                    and their order (default 256,1); PEERS_COMPILE_FREEZING=1
                    also sets torch._inductor.config.freezing (weights folded into the graph,
                    BatchNorm into the convolutions), recorded in params.
Rows: {"op": "resnet50_<fp16|bf16|fp32>", "peer", "params": {"batch", "layout", ...}, "ms",
"img_per_s", "gpu_mem_bytes"}; gpu_mem_bytes is the peak of torch.cuda.max_memory_allocated
during the timed runs less what was allocated before that configuration was set up (weights
and input excluded: activations, workspaces, output; a graph's or a compiled model's pool
included). A configuration that fails prints a row with "error" instead of the figures.
"""
import contextlib
import gc
import json
import os
import statistics
import sys
import time

import cupy as cp
import torch


def timed(fn, reps=20, warm=3, rounds=5):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(rounds):
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(reps):
            fn()
        e.record()
        torch.cuda.synchronize()
        out.append(s.elapsed_time(e) / reps)
    return statistics.median(out)


def emit(op, peer, params, ms, gbytes=None, flops=None):
    row = {"op": op, "peer": peer, "params": params, "ms": round(ms, 5)}
    if gbytes is not None:
        row["gbps"] = round(gbytes / ms * 1e3, 1)
    if flops is not None:
        row["tflops"] = round(flops / ms / 1e9, 2)
    print(json.dumps(row), flush=True)


def g_copy():
    n = 1 << 28
    a = torch.rand(n, device="cuda")
    b = torch.empty_like(a)
    emit("d2d_copy", "torch", {"bytes": 4 * n}, timed(lambda: b.copy_(a)), gbytes=8 * n / 1e9)


def g_vecadd():
    for n in (10_000_000, 1 << 28):
        a = torch.rand(n, device="cuda")
        b = torch.rand(n, device="cuda")
        c = torch.empty_like(a)
        emit("vecadd_f32", "torch", {"n": n}, timed(lambda: torch.add(a, b, out=c)), gbytes=12 * n / 1e9)
        ca, cb, cc = cp.asarray(a), cp.asarray(b), cp.asarray(c)
        emit("vecadd_f32", "cupy", {"n": n}, timed(lambda: cp.add(ca, cb, out=cc)), gbytes=12 * n / 1e9)


def g_reduce():
    for n in (10_000_000, 1 << 28):
        a = torch.rand(n, device="cuda")
        emit("sum_f32", "torch", {"n": n}, timed(lambda: a.sum()), gbytes=4 * n / 1e9)
        ca = cp.asarray(a)
        emit("sum_f32", "cupy", {"n": n}, timed(lambda: ca.sum()), gbytes=4 * n / 1e9)


def g_h2d():
    n = 64 << 20
    d = torch.empty(n, device="cuda")
    pinned = torch.empty(n).pin_memory()
    pageable = torch.empty(n)
    emit("h2d", "torch", {"bytes": 4 * n, "host": "pinned"},
         timed(lambda: d.copy_(pinned, non_blocking=True), reps=5), gbytes=4 * n / 1e9)
    emit("h2d", "torch", {"bytes": 4 * n, "host": "pageable"},
         timed(lambda: d.copy_(pageable), reps=3, rounds=3), gbytes=4 * n / 1e9)
    emit("d2h", "torch", {"bytes": 4 * n, "host": "pinned"},
         timed(lambda: pinned.copy_(d, non_blocking=True), reps=5), gbytes=4 * n / 1e9)


def g_sgemm():
    for n in (64, 1024, 4096, 8192):
        a = torch.randn(n, n, device="cuda")
        b = torch.randn(n, n, device="cuda")
        reps = 1000 if n == 64 else 10
        for mode in ("fp32", "tf32"):
            torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
            emit(f"gemm_{mode}", "torch", {"m": n, "n": n, "k": n}, timed(lambda: a @ b, reps=reps),
                 flops=2 * n ** 3)
        for dt, name in ((torch.float16, "fp16"), (torch.bfloat16, "bf16")):
            ah, bh = a.to(dt), b.to(dt)
            emit(f"gemm_{name}", "torch", {"m": n, "n": n, "k": n}, timed(lambda: ah @ bh, reps=reps),
                 flops=2 * n ** 3)
        ca, cb = cp.asarray(a), cp.asarray(b)
        emit("gemm_fp32", "cupy", {"m": n, "n": n, "k": n}, timed(lambda: ca @ cb, reps=reps),
             flops=2 * n ** 3)
    torch.backends.cuda.matmul.allow_tf32 = False


def g_fft():
    import math
    for n, batch in ((1 << 24, 1), (4096, 4096), (1024, 65536), (256 * 256, 256)):
        x = cp.random.random((batch, n)).astype(cp.complex64)
        ms = timed(lambda: cp.fft.fft(x, axis=-1), reps=10)
        emit("fft_c2c_f32", "cupy", {"n": n, "batch": batch}, ms, gbytes=16 * n * batch / 1e9,
             flops=5 * n * batch * math.log2(n))
        r = cp.random.random((batch, n)).astype(cp.float32)
        ms = timed(lambda: cp.fft.rfft(r, axis=-1), reps=10)
        emit("fft_r2c_f32", "cupy", {"n": n, "batch": batch}, ms, gbytes=(4 + 4) * n * batch / 1e9)
    x = cp.random.random((64, 512, 512)).astype(cp.complex64)
    emit("fft2_c2c_f32", "cupy", {"shape": [512, 512], "batch": 64},
         timed(lambda: cp.fft.fft2(x), reps=10), gbytes=16 * x.size / 1e9)


def g_transpose():
    for shape in ((256, 224, 224, 3), (256, 56, 56, 64), (64, 14, 14, 1024)):
        x = torch.randn(*shape, device="cuda")
        emit("nhwc_to_nchw_f32", "torch", {"shape": list(shape)},
             timed(lambda: x.permute(0, 3, 1, 2).contiguous()), gbytes=8 * x.numel() / 1e9)
        y = torch.randn(shape[0], shape[3], shape[1], shape[2], device="cuda")
        emit("nchw_to_nhwc_f32", "torch", {"shape": list(shape)},
             timed(lambda: y.permute(0, 2, 3, 1).contiguous()), gbytes=8 * y.numel() / 1e9)


# ---- ResNet-50 ----------------------------------------------------------------------------------
RESNET_BATCHES = (1, 8, 32, 128, 256)
RESNET_PRECISIONS = (("fp16", torch.float16), ("bf16", torch.bfloat16), ("fp32", torch.float32))
RESNET_GRAPH_BATCHES = (1, 256)  # the fp16 model replayed from a CUDA graph
RESNET_COMPILE_BATCHES = (256, 1)  # batch 256 first: the figure the report compares with
_resnet_source = []


def resnet50_source():
    """Where the ResNet-50 comes from: "torchvision <version>", or "builtin v1.5" and why."""
    if not _resnet_source:
        try:
            import torchvision
            _resnet_source.append(f"torchvision {torchvision.__version__}")
        except Exception as e:  # not installed, or built for another torch
            _resnet_source.append(f"builtin v1.5 (no torchvision: {type(e).__name__})")
    return _resnet_source[0]


class Bottleneck(torch.nn.Module):
    """ResNet v1.5 bottleneck: 1x1 to `width`, 3x3 carrying the stride, 1x1 to 4 x width, each
    with BatchNorm, ReLU after the first two and after the residual sum; the shortcut is a
    strided 1x1 convolution with BatchNorm where the shape changes, else the identity."""

    def __init__(self, cin, width, stride):
        super().__init__()
        nn = torch.nn
        cout = 4 * width
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                         nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + shortcut)


class ResNet50(torch.nn.Module):
    """ResNet-50 v1.5 for when torchvision is missing: the stem (7x7/2 convolution, BatchNorm,
    ReLU, 3x3/2 max pool), four stages of 3, 4, 6 and 3 bottlenecks of widths 64, 128, 256 and
    512 (each stage but the first halves the resolution in its first block's 3x3), global
    average pool, fully connected 2048 -> 1000. The same layers and shapes as torchvision's."""

    def __init__(self, classes=1000):
        super().__init__()
        nn = torch.nn
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
                                  nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        blocks, cin = [], 64
        for stage, (width, depth) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
            for i in range(depth):
                blocks.append(Bottleneck(cin, width, 2 if stage > 0 and i == 0 else 1))
                cin = 4 * width
        self.stages = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


def resnet50_gpu(dtype):
    """A fresh ResNet-50 (random weights) in eval mode on the GPU, in dtype, channels_last."""
    if resnet50_source().startswith("torchvision"):
        import torchvision
        model = torchvision.models.resnet50(weights=None)
    else:
        model = ResNet50()
    return model.eval().to(device="cuda", dtype=dtype, memory_format=torch.channels_last)


def resnet_input(batch, dtype):
    x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=dtype)
    return x.contiguous(memory_format=torch.channels_last)


def resnet_params(batch, prec):
    params = {"batch": batch, "layout": "channels_last", "cudnn_benchmark": True}
    if prec == "fp32":
        params["tf32"] = False  # cudnn.allow_tf32 and cuda.matmul.allow_tf32 off
    return params


@contextlib.contextmanager
def resnet_settings():
    """cuDNN autotuning on (each new shape's first call times the algorithms: a tuned run, as
    one would serve), TF32 off for fp32; the previous settings come back afterwards."""
    b = torch.backends
    saved = (b.cudnn.benchmark, b.cudnn.allow_tf32, b.cuda.matmul.allow_tf32)
    b.cudnn.benchmark, b.cudnn.allow_tf32, b.cuda.matmul.allow_tf32 = True, False, False
    try:
        yield
    finally:
        b.cudnn.benchmark, b.cudnn.allow_tf32, b.cuda.matmul.allow_tf32 = saved


def describe(e):
    """An exception on one line, short enough for a JSON row."""
    text = " ".join(f"{type(e).__name__}: {e}".split())
    return text if len(text) <= 600 else text[:600] + " ..."


def resnet_emit(op, peer, params, **fields):
    row = {"op": op, "peer": peer, "params": params}
    row.update(fields)
    print(json.dumps(row), flush=True)


def resnet_measure(op, peer, params, batch, fn, base, **extra):
    """Times fn (set up and warmed up by the caller) and prints its row. base: the bytes
    allocated before the configuration was set up (model and input already there)."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    ms = timed(fn, reps=max(3, min(20, 256 // batch)))
    peak = torch.cuda.max_memory_allocated()
    resnet_emit(op, peer, params, ms=round(ms, 5), img_per_s=round(batch / ms * 1e3, 1),
                gpu_mem_bytes=max(0, peak - base), **extra)


def release():
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()


def resnet_graph(model, x):
    """One forward pass on x captured in a CUDA graph: warmed up on a side stream first (as
    capture requires; cuDNN has tuned the shape by then), then captured. Returns the graph and
    its output, which must stay alive with it."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            model(x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = model(x)
    return graph, out


def resnet_eager(op, prec, dtype, model):
    for batch in RESNET_BATCHES:
        params = resnet_params(batch, prec)
        x = None
        try:
            x = resnet_input(batch, dtype)
            base = torch.cuda.memory_allocated()
            for _ in range(3):  # the first call tunes cuDNN for this shape
                model(x)
            resnet_measure(op, "torch-eager", params, batch, lambda: model(x), base)
        except Exception as e:  # out of memory, say: the next batch still runs
            resnet_emit(op, "torch-eager", params, error=describe(e))
        x = None
        release()


def resnet_graphs(op, prec, dtype, model):
    for batch in RESNET_GRAPH_BATCHES:
        params = resnet_params(batch, prec)
        graph = out = x = None
        try:
            x = resnet_input(batch, dtype)
            base = torch.cuda.memory_allocated()
            graph, out = resnet_graph(model, x)
            resnet_measure(op, "torch-cudagraph", params, batch, graph.replay, base)
        except Exception as e:
            resnet_emit(op, "torch-cudagraph", params, error=describe(e))
        graph = out = x = None
        release()


def g_resnet50():
    with resnet_settings():
        for prec, dtype in RESNET_PRECISIONS:
            op = f"resnet50_{prec}"
            try:
                model = resnet50_gpu(dtype)  # outside inference mode: ordinary parameters
            except Exception as e:  # the other precisions still run
                resnet_emit(op, "torch-eager", resnet_params(None, prec), error=describe(e))
                release()
                continue
            with torch.inference_mode():
                resnet_eager(op, prec, dtype, model)
                if prec == "fp16":
                    resnet_graphs(op, prec, dtype, model)
            model = None
            release()


def compile_reset():
    try:
        import torch._dynamo
        torch._dynamo.reset()
    except Exception:
        pass


def compile_settings():
    """(budget seconds, batches) from PEERS_COMPILE_BUDGET_S and PEERS_COMPILE_BATCHES; a value
    that is not one stops the script with status 2, naming the setting."""
    raw = os.environ.get("PEERS_COMPILE_BUDGET_S", "420")
    try:
        budget = float(raw)
    except ValueError:
        budget = float("nan")
    if not 0 < budget < 1e6:  # also refuses nan and inf
        print(f"peers.py: PEERS_COMPILE_BUDGET_S={raw!r}: want seconds, more than 0 and under 1e6",
              file=sys.stderr)
        sys.exit(2)
    raw = os.environ.get("PEERS_COMPILE_BATCHES", "")
    if not raw:
        return budget, RESNET_COMPILE_BATCHES
    batches = []
    for part in raw.split(","):
        if not part.isdigit() or not 1 <= int(part) <= 4096 or int(part) in batches:
            print(f"peers.py: PEERS_COMPILE_BATCHES={raw!r}: want distinct batch sizes from 1 to "
                  "4096, comma-separated (e.g. 256,1)", file=sys.stderr)
            sys.exit(2)
        batches.append(int(part))
    return budget, tuple(batches)


def g_resnet50_compile():
    budget, compile_batches = compile_settings()
    freezing = os.environ.get("PEERS_COMPILE_FREEZING", "0") == "1"
    op, peer = "resnet50_fp16", "torch-compile"
    t0 = time.monotonic()
    longest = 0.0  # seconds, the longest compile so far
    with resnet_settings():
        try:
            model = resnet50_gpu(torch.float16)
        except Exception as e:
            resnet_emit(op, peer, resnet_params(None, "fp16"), error=describe(e))
            return
        for batch in compile_batches:
            params = resnet_params(batch, "fp16")
            params.update({"mode": "max-autotune", "dynamic": False, "freezing": freezing,
                           "grad": "no_grad"})
            spent = time.monotonic() - t0
            # The longest compile so far predicts the next one: a compile that would run past
            # the budget is skipped with a row, not started and then killed by the step's limit
            # (on an H100: 336 s for batch 256, then batch 1 started with 34 s left).
            if spent + longest >= budget:
                resnet_emit(op, peer, params, skip=f"compile budget: {spent:.0f} s spent and the "
                            f"longest compile so far took {longest:.0f} s, past "
                            f"PEERS_COMPILE_BUDGET_S={budget:g}")
                continue
            compiled = x = None
            saved_freezing = None
            try:
                import torch._inductor.config as inductor_config
                saved_freezing = inductor_config.freezing
                inductor_config.freezing = freezing
                compile_reset()  # a fresh compile for each shape, its own time
                x = resnet_input(batch, torch.float16)
                base = torch.cuda.memory_allocated()
                compiled = torch.compile(model, mode="max-autotune", dynamic=False)
                with torch.no_grad():
                    t = time.perf_counter()
                    compiled(x)  # tracing, autotuning and code generation happen here
                    torch.cuda.synchronize()
                    compile_s = time.perf_counter() - t
                    longest = max(longest, compile_s)
                    resnet_measure(op, peer, params, batch, lambda: compiled(x), base,
                                   compile_s=round(compile_s, 1))
            except Exception as e:  # a failed compile is a row, not the end of the script
                resnet_emit(op, peer, params, error=describe(e))
            finally:
                if saved_freezing is not None:
                    inductor_config.freezing = saved_freezing
            compiled = x = None
            compile_reset()
            release()


GROUPS = {k[2:]: v for k, v in dict(globals()).items() if k.startswith("g_")}
# Every group but the torch.compile one, which compiles for minutes.
DEFAULT_GROUPS = [g for g in GROUPS if g != "resnet50_compile"]

if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["--list"]:
        print(" ".join(GROUPS))
        sys.exit(0)
    groups = args or DEFAULT_GROUPS
    for g in groups:
        if g not in GROUPS:
            sys.exit(f"unknown group {g}; groups: {' '.join(GROUPS)}")
    header = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "cupy": cp.__version__}
    if any(g.startswith("resnet50") for g in groups):
        header["resnet50_model"] = resnet50_source()
        header["cudnn"] = torch.backends.cudnn.version()
    print(json.dumps(header), flush=True)
    for g in groups:
        GROUPS[g]()
