#!/usr/bin/env python3
"""CPU test of scripts/peers.py's torch.compile budget and settings (no GPU, no PyTorch).

peers.py imports torch and cupy at the top; this test puts small stand-ins in sys.modules, with
a fake clock that a "compile" advances by a chosen number of seconds, and checks which batch
sizes g_resnet50_compile compiles and which it skips, and that a bad setting stops the script
with status 2, naming the setting.

  python3 tests/bench/test_peers_compile.py     # exit status 0: every case passed
"""
import contextlib
import io
import os
import random
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

clock = [0.0]
compile_seconds = {}  # batch -> seconds its first call takes


def install_stand_ins():
    torch = types.ModuleType("torch")
    torch.float16, torch.bfloat16, torch.float32 = "fp16", "bf16", "fp32"
    torch.no_grad = contextlib.nullcontext
    torch.nn = types.SimpleNamespace(Module=object)
    torch.cuda = types.SimpleNamespace(memory_allocated=lambda: 0, synchronize=lambda: None)

    def compile_(model, mode, dynamic):
        def first_call(x):
            clock[0] += compile_seconds[x]
        return first_call
    torch.compile = compile_
    dynamo = types.ModuleType("torch._dynamo")
    dynamo.reset = lambda: None
    inductor = types.ModuleType("torch._inductor")
    config = types.ModuleType("torch._inductor.config")
    config.freezing = False
    inductor.config = config
    torch._dynamo, torch._inductor = dynamo, inductor
    sys.modules.update({"torch": torch, "torch._dynamo": dynamo, "torch._inductor": inductor,
                        "torch._inductor.config": config, "cupy": types.ModuleType("cupy")})


install_stand_ins()
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import peers  # noqa: E402

peers.time = types.SimpleNamespace(monotonic=lambda: clock[0], perf_counter=lambda: clock[0])
peers.resnet50_gpu = lambda dtype: object()
peers.resnet_input = lambda batch, dtype: batch
peers.resnet_settings = contextlib.nullcontext
peers.release = lambda: None
rows = []
peers.resnet_emit = lambda op, peer, params, **f: rows.append((params["batch"], f))
peers.resnet_measure = lambda op, peer, params, batch, fn, base, **e: rows.append((batch, e))

failures = []


def run(budget=None, batches=None):
    for key, value in (("PEERS_COMPILE_BUDGET_S", budget), ("PEERS_COMPILE_BATCHES", batches)):
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    clock[0] = 0.0
    rows.clear()
    err = io.StringIO()
    status = None
    with contextlib.redirect_stderr(err):
        try:
            peers.g_resnet50_compile()
        except SystemExit as e:
            status = e.code
    return status, err.getvalue()


def check(name, got, want):
    if got != want:
        failures.append(f"{name}: got {got!r}, want {want!r}")


def compiled():
    return [b for b, f in rows if "compile_s" in f]


def skipped():
    return [b for b, f in rows if "skip" in f]


# The sixth session's H100 case: batch 256 compiled for 336 s with a 370 s budget. Batch 1 then
# started with 34 s left and was killed by the step's limit; it must be skipped, with a row.
compile_seconds.update({256: 336.0, 1: 170.0})
check("370 s budget: status", run("370")[0], None)
check("370 s budget: compiled", compiled(), [256])
check("370 s budget: skipped", skipped(), [1])
check("skip row names the budget", "PEERS_COMPILE_BUDGET_S=370" in rows[-1][1].get("skip", ""),
      True)
# The fourth session's case (199 s, then 170 s) fits the default 420 s budget.
compile_seconds.update({256: 199.0, 1: 170.0})
run()
check("default budget, 199 s then 170 s: compiled", compiled(), [256, 1])
# The order and the sizes come from PEERS_COMPILE_BATCHES.
compile_seconds.update({256: 336.0, 1: 170.0, 8: 180.0})
run("420", "1")
check("batch 1 alone", compiled(), [1])
run("600", "1,256")
check("1 then 256 in 600 s", compiled(), [1, 256])
run("500", "8,1,256")
check("8, 1, then 256 in 500 s", (compiled(), skipped()), ([8, 1], [256]))
# A first compile always runs, whatever it will take.
compile_seconds[256] = 1000.0
run("10", "256")
check("the first compile runs", compiled(), [256])

# Random compile times: a compile starts only where the time spent plus the longest compile
# before it stays under the budget, and every batch size gets exactly one row.
rng = random.Random()
for trial in range(200):
    sizes = rng.sample([1, 2, 8, 32, 64, 128, 256], rng.randint(1, 5))
    for b in sizes:
        compile_seconds[b] = rng.uniform(1, 300)
    budget = rng.uniform(1, 900)
    run(f"{budget:.3f}", ",".join(map(str, sizes)))
    check(f"trial {trial}: one row per size", [b for b, _ in rows], sizes)
    spent, longest = 0.0, 0.0
    for i, b in enumerate(sizes):
        want_compile = i == 0 or spent + longest < float(f"{budget:.3f}")
        check(f"trial {trial}: batch {b} compiled", b in compiled(), want_compile)
        if b in compiled():
            spent += compile_seconds[b]
            longest = max(longest, compile_seconds[b])

# Bad settings stop the script with status 2 and a message naming the setting.
for budget, batches, setting in (("abc", None, "PEERS_COMPILE_BUDGET_S"),
                                 ("0", None, "PEERS_COMPILE_BUDGET_S"),
                                 ("-5", None, "PEERS_COMPILE_BUDGET_S"),
                                 ("nan", None, "PEERS_COMPILE_BUDGET_S"),
                                 ("inf", None, "PEERS_COMPILE_BUDGET_S"),
                                 (None, "0", "PEERS_COMPILE_BATCHES"),
                                 (None, "1,1", "PEERS_COMPILE_BATCHES"),
                                 (None, "1,", "PEERS_COMPILE_BATCHES"),
                                 (None, "4097", "PEERS_COMPILE_BATCHES"),
                                 (None, "a", "PEERS_COMPILE_BATCHES"),
                                 (None, "-1", "PEERS_COMPILE_BATCHES")):
    status, message = run(budget, batches)
    check(f"{setting}={budget or batches}: status", status, 2)
    check(f"{setting}={budget or batches}: message", setting in message, True)
    check(f"{setting}={budget or batches}: nothing compiled", rows, [])

if failures:
    print(f"test_peers_compile: {len(failures)} failed", file=sys.stderr)
    for f in failures[:20]:
        print("  " + f, file=sys.stderr)
    sys.exit(1)
print("test_peers_compile: all cases passed")
