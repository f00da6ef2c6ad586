#!/usr/bin/env python3
"""Generates the ONNX test models of the CNN inference runtime, their inputs and their reference
outputs (onnxruntime, CPU, graph optimisations off, so the references are the plain op semantics).

    gen-models.py --out DIR [--only REGEX] [--no-refs] [--stamp FILE] [-v]
    gen-models.py --verify DIR          parse every DIR/*.test and check the files it names
    gen-models.py --out DIR --dev-check also compare onnxruntime with its optimised graph and
                                        the onnx reference evaluator; print error/tolerance

For each model NAME it writes into DIR:

    NAME.onnx              the model (NAME.onnx.data next to it for the external-data models;
                           the tensors' location is relative)
    NAME.test              the manifest, below
    NAME.rK.TENSOR.bin     the tensors of run K (from 0): raw little-endian, C order, float32;
                           TENSOR is the graph input/output name, characters outside
                           [A-Za-z0-9_-] replaced by '_'

Manifest NAME.test, one directive a line, '#' starts a comment:

    # cudago nn test case v1
    model NAME.onnx
    sha256 <hex SHA-256 of NAME.onnx>
    kind op|net
    max_batch <int>          the max batch to load the runtime with
    tol <rtol> <atol>        pass if |got - want| <= atol + rtol * |want| for every element
    run                      starts a run; one or more runs a model
    input <name> f32 <d0> <d1> ... <file.bin>
    output <name> f32 <d0> <d1> ... <file.bin>

The dims of a run are concrete, batch included. Input dim 0 (and output dim 0) is dim_param "N"
except in the models named *_fixedb*, whose max_batch is their fixed batch. --no-refs (a machine
without onnxruntime) writes the models, the inputs and manifests without output lines.

Determinism rule: the models and the inputs are the same bytes on every machine, whatever the
numpy/onnx/protobuf versions, so that a copy regenerated elsewhere can be compared by SHA-256.
Hence:
  * random numbers come only from np.random.PCG64(seed).random_raw(n), whose stream numpy keeps
    stable (NEP 19); the seed is a hash of the model name and the tensor's name (never a global
    counter, so --only does not change anything);
  * raw words become doubles with (x >> 11) * 2**-53 (exact) and are then only added, subtracted,
    multiplied and divided (IEEE 754 rounds these exactly, in numpy's SIMD loops as well) and cast
    to float32 (round to nearest even). Normal-ish weights are Irwin-Hall sums of four uniforms,
    not Box-Muller: numpy's log/sin/cos are not correctly rounded and dispatch to different code
    (SVML on AVX-512, other libms) on different machines and versions, which could flip the last
    bit of a float32 weight;
  * the protobufs are built field by field here (no onnx.helper, whose defaults change between
    versions), serialised with SerializeToString(deterministic=True), producer fixed, no
    timestamps; external data files are laid out here too (64-byte aligned offsets), not by
    onnx.save, whose alignment rules changed between onnx versions.
The reference outputs come from onnxruntime and are not expected to be bit-identical elsewhere.
"""
import argparse
import hashlib
import math
import os
import re
import sys
import time

import numpy as np
import onnx
from onnx import AttributeProto, ModelProto, TensorProto

PRODUCER = "cudago-gen-models"
PRODUCER_VERSION = "1"
EXT_THRESHOLD = 1024  # bytes: initializers at least this big go to the external data file
EXT_ALIGN = 64        # byte alignment of each tensor in the external data file
IR_FOR_OPSET = {9: 4, 11: 6, 13: 7, 17: 8}

# Tolerances (rtol, atol). Elementwise ops: a few ulp of float32 pass with a wide margin.
TOL_EW = (1e-4, 1e-5)
TOL_SOFTMAX = (1e-4, 1e-6)  # values can be small; a wrong axis or normaliser gives O(1/K) errors
TOL_NET = (2e-3, 2e-3)


def tol_dot(k):
    """Tolerance of a dot product of length k of O(1) inputs and He-scaled weights (output O(1)).
    fp32 rounding with another summation order gives ~1e-7*sqrt(k); 3e-5*sqrt(k) is > 100x that
    and still far below the O(0.1) errors of a wrong index, pad or stride."""
    return (1e-4, max(1e-5, 3e-5 * math.sqrt(k)))


# --------------------------------------------------------------------------------------------
# Deterministic random numbers (see the module docstring)

def _seed(*parts):
    h = hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()
    return int.from_bytes(h[:16], "little")


def _uniform01(key, n):
    """n doubles in [0, 1), exact multiples of 2**-53."""
    raw = np.random.PCG64(_seed(*key)).random_raw(n)
    return (raw >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def rand_uniform(key, shape, lo, hi):
    n = int(np.prod(shape, dtype=np.int64))
    u = _uniform01(key, n)
    return (u * (hi - lo) + lo).astype(np.float32).reshape(shape)


def rand_away(key, shape, lo, hi):
    """Magnitude uniform in [lo, hi), random sign: bounded away from zero."""
    n = int(np.prod(shape, dtype=np.int64))
    u = _uniform01(key, 2 * n)
    mag = u[:n] * (hi - lo) + lo
    sign = np.where(u[n:] < 0.5, -1.0, 1.0)
    return (mag * sign).astype(np.float32).reshape(shape)


def rand_normal(key, shape, std):
    """Irwin-Hall(4), centred and scaled to variance std**2 (support +-3.46 std)."""
    n = int(np.prod(shape, dtype=np.int64))
    u = _uniform01(key, 4 * n).reshape(4, n)
    s = (u[0] + u[1]) + (u[2] + u[3]) - 2.0  # variance 4/12
    return (s * (math.sqrt(3.0) * std)).astype(np.float32).reshape(shape)


def gen_input(key, shape, gen):
    if gen[0] == "u":
        return rand_uniform(key, shape, gen[1], gen[2])
    if gen[0] == "away":
        return rand_away(key, shape, gen[1], gen[2])
    raise ValueError(gen)


U11 = ("u", -1.0, 1.0)

# --------------------------------------------------------------------------------------------
# Protobuf construction, field by field

_DTYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
           np.dtype(np.bool_): TensorProto.BOOL}


def fill_tensor(t, name, arr):
    arr = np.asarray(arr)
    t.name = name
    t.data_type = _DTYPES[arr.dtype]
    t.dims.extend(int(d) for d in arr.shape)
    t.raw_data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    return t


def make_attr(name, v):
    a = AttributeProto()
    a.name = name
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"attribute {name}: use int, not bool")
    if isinstance(v, (int, np.integer)):
        a.type = AttributeProto.INT
        a.i = int(v)
    elif isinstance(v, float):
        a.type = AttributeProto.FLOAT
        a.f = v
    elif isinstance(v, str):
        a.type = AttributeProto.STRING
        a.s = v.encode("utf-8")
    elif isinstance(v, TensorProto):
        a.type = AttributeProto.TENSOR
        a.t.CopyFrom(v)
    elif isinstance(v, (list, tuple)) and v and all(isinstance(e, (int, np.integer)) for e in v):
        a.type = AttributeProto.INTS
        a.ints.extend(int(e) for e in v)
    elif isinstance(v, (list, tuple)) and v and all(isinstance(e, float) for e in v):
        a.type = AttributeProto.FLOATS
        a.floats.extend(v)
    else:
        raise TypeError(f"attribute {name}: {v!r}")
    return a


def fill_value_info(v, name, shape, elem=TensorProto.FLOAT):
    v.name = name
    tt = v.type.tensor_type
    tt.elem_type = elem
    tt.shape.SetInParent()
    for d in shape:
        dim = tt.shape.dim.add()
        if isinstance(d, str):
            dim.dim_param = d
        elif d is not None:
            dim.dim_value = int(d)
    return v


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


class Net:
    """One model under construction. Node and value names are unique; initializer values are
    derived from (model name, initializer name)."""

    def __init__(self, name, opset=17, ir=None, style="pt"):
        self.name = name
        self.opset = opset
        self.style = style
        self.m = ModelProto()
        self.m.ir_version = ir if ir is not None else IR_FOR_OPSET[opset]
        self.m.producer_name = PRODUCER
        self.m.producer_version = PRODUCER_VERSION
        op = self.m.opset_import.add()
        op.domain = ""
        op.version = opset
        self.m.graph.name = name
        self.inputs = []   # (name, shape, gen)
        self.outputs = []  # (name, shape)
        self.names = set()

    # values
    def _unique(self, n):
        if n not in self.names:
            self.names.add(n)
            return n
        i = 1
        while f"{n}_{i}" in self.names:
            i += 1
        self.names.add(f"{n}_{i}")
        return f"{n}_{i}"

    def init(self, name, arr):
        name = self._unique(name)
        fill_tensor(self.m.graph.initializer.add(), name, arr)
        return name

    def weight(self, name, shape, std):
        return self.init(name, rand_normal((self.name, "init", name), shape, std))

    def uniform(self, name, shape, lo, hi):
        return self.init(name, rand_uniform((self.name, "init", name), shape, lo, hi))

    def away(self, name, shape, lo, hi):
        return self.init(name, rand_away((self.name, "init", name), shape, lo, hi))

    def tensor(self, name, arr):
        """A TensorProto for a Constant/ConstantOfShape attribute."""
        return fill_tensor(TensorProto(), name, arr)

    def add_input(self, name, shape, gen=U11):
        assert name not in self.names and not re.search(r"\s", name)
        self.names.add(name)
        fill_value_info(self.m.graph.input.add(), name, shape)
        self.inputs.append((name, list(shape), gen))
        return name

    def add_output(self, name, shape):
        assert not re.search(r"\s", name)
        fill_value_info(self.m.graph.output.add(), name, shape)
        self.outputs.append((name, list(shape)))
        return name

    def op(self, op_type, inputs, name=None, outs=None, nout=1, **attrs):
        if name is None:
            name = op_type
        name = self._unique(name)
        if outs is None:
            suffix = ":{}" if self.style == "cv" else "_output_{}"
            outs = [self._unique(name + suffix.format(i)) for i in range(nout)]
        else:
            for o in outs:
                self.names.add(o)
        n = self.m.graph.node.add()
        n.op_type = op_type
        n.name = name
        n.input.extend(inputs)
        n.output.extend(outs)
        n.attribute.extend(make_attr(k, attrs[k]) for k in sorted(attrs))
        return outs[0] if len(outs) == 1 else outs

    def const(self, name, arr):
        """A Constant node (the PyTorch exporter's way) giving arr."""
        return self.op("Constant", [], name=name, value=self.tensor("", np.asarray(arr)))


class Case:
    def __init__(self, net, kind="op", tol=TOL_EW, batches=None, max_batch=None,
                 external=False, check=None):
        self.net = net
        self.name = net.name
        self.kind = kind
        self.tol = tol
        if batches is None:
            batches = (1, 7) if kind == "op" else (2,)
        if max_batch is None:
            max_batch = 8 if kind == "op" else 4
        self.batches = tuple(batches)
        self.max_batch = max_batch
        self.external = external
        self.check = check  # None, "logits" or "probs": whole-net output sanity checks


# --------------------------------------------------------------------------------------------
# Single-op models

CASES = []


def reg(name, fn, *a, **kw):
    CASES.append((name, lambda: fn(name, *a, **kw)))


def conv_out(n, k, s, pb, pe, d=1):
    return (n + pb + pe - ((k - 1) * d + 1)) // s + 1


def pool_out(n, k, s, pb, pe, d=1, ceil=False):
    num = n + pb + pe - ((k - 1) * d + 1)
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= n + pb:  # the last window must start inside the input or left pad
        o -= 1
    return o


def same_pads(n, k, s, d=1):
    o = -(-n // s)
    total = max(0, (o - 1) * s + (k - 1) * d + 1 - n)
    return o, total


def conv_case(name, cin, cout, hw, k, s=1, pads=(0, 0, 0, 0), d=1, group=1, bias=True,
              auto_pad=None, omit_kshape=False, fixed_batch=None):
    g = Net(name)
    H, W = hw
    kh, kw = k if isinstance(k, tuple) else (k, k)
    batch = fixed_batch if fixed_batch else "N"
    x = g.add_input("x", [batch, cin, H, W])
    fan_in = cin // group * kh * kw
    ins = [x, g.weight("w", [cout, cin // group, kh, kw], math.sqrt(2.0 / fan_in))]
    if bias:
        ins.append(g.uniform("b", [cout], -0.1, 0.1))
    attrs = {}
    if not omit_kshape:
        attrs = dict(kernel_shape=[kh, kw], strides=[s, s], dilations=[d, d], group=group)
    elif group != 1 or s != 1 or d != 1:
        raise ValueError("omit_kshape only with default attributes")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        attrs["auto_pad"] = auto_pad
        oh, ow = same_pads(H, kh, s, d)[0], same_pads(W, kw, s, d)[0]
    elif auto_pad == "VALID":
        attrs["auto_pad"] = auto_pad
        oh, ow = conv_out(H, kh, s, 0, 0, d), conv_out(W, kw, s, 0, 0, d)
    else:
        if any(pads) and not omit_kshape:
            attrs["pads"] = list(pads)
        oh, ow = conv_out(H, kh, s, pads[0], pads[2], d), conv_out(W, kw, s, pads[1], pads[3], d)
    y = g.add_output("y", [batch, cout, oh, ow])
    g.op("Conv", ins, outs=[y], **attrs)
    kw_ = {}
    if fixed_batch:
        kw_ = dict(batches=(fixed_batch,), max_batch=fixed_batch)
    return Case(g, tol=tol_dot(fan_in), **kw_)


def bn_params(g, prefix, c, names=("weight", "bias", "running_mean", "running_var"), sep="."):
    return [g.uniform(f"{prefix}{sep}{names[0]}", [c], 0.5, 1.5),
            g.uniform(f"{prefix}{sep}{names[1]}", [c], -0.1, 0.1),
            g.uniform(f"{prefix}{sep}{names[2]}", [c], -0.1, 0.1),
            g.uniform(f"{prefix}{sep}{names[3]}", [c], 0.5, 1.5)]


def bn_case(name, shape, eps=1e-5, after_conv=False):
    g = Net(name)
    x = g.add_input("x", ["N"] + list(shape))
    c = shape[0]
    tol = TOL_EW
    if after_conv:
        x = g.op("Conv", [x, g.weight("conv.weight", [c, c, 3, 3], math.sqrt(2.0 / (9 * c)))],
                 name="/conv/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
                 dilations=[1, 1], group=1)
        tol = tol_dot(9 * c)
    y = g.add_output("y", ["N"] + list(shape))
    g.op("BatchNormalization", [x] + bn_params(g, "bn", c), outs=[y], name="/bn/BatchNormalization",
         epsilon=eps, momentum=0.9)
    return Case(g, tol=tol)


def unary_case(name, op, shape, gen=U11, opset=17, tol=TOL_EW, **attrs):
    g = Net(name, opset)
    x = g.add_input("x", ["N"] + list(shape), gen)
    g.op(op, [x], outs=[g.add_output("y", ["N"] + list(shape))], **attrs)
    return Case(g, tol=tol)


def clip_case(name, shape, lo, hi, opset=17):
    g = Net(name, opset)
    x = g.add_input("x", ["N"] + list(shape), ("u", -8.0, 8.0))
    y = g.add_output("y", ["N"] + list(shape))
    if opset < 11:
        g.op("Clip", [x], outs=[y], min=float(lo), max=float(hi))
    else:
        ins = [x, g.init("min", np.float32(lo)) if lo is not None else "",
               g.init("max", np.float32(hi)) if hi is not None else ""]
        while ins[-1] == "":
            ins.pop()
        g.op("Clip", ins, outs=[y])
    return Case(g)


def binary_case(name, op, pattern, C=13, H=13, W=11):
    """x op B with B per pattern: same (input), c11 ([C,1,1] init), scalar1 ([1] init),
    scalar0d_first (0-d init, first operand), n1hw (input [N,1,H,W]), w ([W] init)."""
    g = Net(name)
    div = op == "Div"
    bgen = ("away", 0.5, 2.0) if div else U11
    x = g.add_input("x", ["N", C, H, W])
    first = False
    if pattern == "same":
        b = g.add_input("y", ["N", C, H, W], bgen)
    elif pattern == "n1hw":
        b = g.add_input("y", ["N", 1, H, W], bgen)
    else:
        shape = {"c11": [C, 1, 1], "scalar1": [1], "scalar0d_first": [], "w": [W]}[pattern]
        if pattern == "scalar0d_first":
            first = True
        b = g.away("B", shape, 0.5, 2.0) if div and not first else g.uniform("B", shape, -1.0, 1.0)
    ins = [b, x] if first else [x, b]
    if first and div:
        raise ValueError("no division by the input")
    g.op(op, ins, outs=[g.add_output("z", ["N", C, H, W])])
    return Case(g)


def pool_case(name, op, C, hw, k, s, pads=(0, 0, 0, 0), d=1, ceil=0, cip=None, gen=U11):
    g = Net(name)
    H, W = hw
    x = g.add_input("x", ["N", C, H, W], gen)
    attrs = dict(kernel_shape=[k, k], strides=[s, s])
    if any(pads):
        attrs["pads"] = list(pads)
    if ceil:
        attrs["ceil_mode"] = 1
    if d != 1:
        attrs["dilations"] = [d, d]
    if cip is not None:
        attrs["count_include_pad"] = cip
    oh = pool_out(H, k, s, pads[0], pads[2], d, bool(ceil))
    ow = pool_out(W, k, s, pads[1], pads[3], d, bool(ceil))
    g.op(op, [x], outs=[g.add_output("y", ["N", C, oh, ow])], **attrs)
    return Case(g)


def global_pool_case(name, op, C, hw):
    g = Net(name)
    x = g.add_input("x", ["N", C] + list(hw))
    g.op(op, [x], outs=[g.add_output("y", ["N", C, 1, 1])])
    return Case(g)


def flatten_case(name, axis, shape, out_shape):
    g = Net(name)
    x = g.add_input("x", ["N"] + list(shape))
    g.op("Flatten", [x], outs=[g.add_output("y", out_shape)], axis=axis)
    return Case(g)


def reshape_case(name, shape, target, out_shape, constant_node=False):
    g = Net(name)
    x = g.add_input("x", ["N"] + list(shape))
    t = np.array(target, dtype=np.int64)
    s = g.const("/Constant", t) if constant_node else g.init("shape", t)
    g.op("Reshape", [x, s], outs=[g.add_output("y", out_shape)])
    return Case(g)


def transpose_case(name, shape, perm):
    g = Net(name)
    full = ["N"] + list(shape)
    x = g.add_input("x", full)
    g.op("Transpose", [x], outs=[g.add_output("y", [full[p] for p in perm])], perm=list(perm))
    return Case(g)


def gemm_case(name, K, M, transB=1, alpha=1.0, beta=1.0, cshape=(None,)):
    g = Net(name)
    a = g.add_input("a", ["N", K])
    bshape = [M, K] if transB else [K, M]
    ins = [a, g.weight("B", bshape, math.sqrt(2.0 / K))]
    if cshape != (None,):
        ins.append(g.uniform("C", [M if d == "M" else d for d in cshape], -0.5, 0.5))
    attrs = {}
    if transB:
        attrs["transB"] = 1
    if alpha != 1.0:
        attrs["alpha"] = alpha
    if beta != 1.0:
        attrs["beta"] = beta
    g.op("Gemm", ins, outs=[g.add_output("y", ["N", M])], **attrs)
    return Case(g, tol=tol_dot(K))


def matmul_case(name, ashape, K, M):
    g = Net(name)
    a = g.add_input("a", ["N"] + list(ashape) + [K])
    g.op("MatMul", [a, g.weight("B", [K, M], math.sqrt(2.0 / K))],
         outs=[g.add_output("y", ["N"] + list(ashape) + [M])])
    return Case(g, tol=tol_dot(K))


def softmax_case(name, shape, axis=None, opset=13):
    g = Net(name, opset)
    x = g.add_input("x", ["N"] + list(shape), ("u", -3.0, 3.0))
    attrs = {} if axis is None else dict(axis=axis)
    g.op("Softmax", [x], outs=[g.add_output("y", ["N"] + list(shape))], **attrs)
    return Case(g, tol=TOL_SOFTMAX)


def concat_case(name, chans, hw):
    g = Net(name)
    xs = [g.add_input(f"x{i}", ["N", c] + list(hw)) for i, c in enumerate(chans)]
    g.op("Concat", xs, outs=[g.add_output("y", ["N", sum(chans)] + list(hw))], axis=1)
    return Case(g)


def pad_case(name, shape, pads, mode="constant", value=None):
    g = Net(name, 13)
    x = g.add_input("x", ["N"] + list(shape))
    r = len(shape) + 1
    ins = [x, g.init("pads", np.array(pads, dtype=np.int64))]
    if value is not None:
        ins.append(g.init("value", np.float32(value)))
    out = ["N"] + [shape[i - 1] + pads[i] + pads[i + r] for i in range(1, r)]
    attrs = {} if mode == "constant" else dict(mode=mode)
    g.op("Pad", ins, outs=[g.add_output("y", out)], **attrs)
    return Case(g)


def dropout_case(name, ratio=None):
    g = Net(name, 13)
    x = g.add_input("x", ["N", 13, 7, 9])
    ins = [x]
    if ratio is not None:
        ins += [g.init("ratio", np.float32(ratio)), g.init("training_mode", np.bool_(False))]
    g.op("Dropout", ins, outs=[g.add_output("y", ["N", 13, 7, 9])])
    return Case(g)


def chain_flatten_case(name):
    """torch: x.view(x.size(0), -1) exported at opset 17 without constant folding."""
    g = Net(name)
    x = g.add_input("x", ["N", 13, 7, 9])
    shp = g.op("Shape", [x], name="/Shape")
    g0 = g.op("Gather", [shp, g.const("/Constant", np.int64(0))], name="/Gather", axis=0)
    u = g.op("Unsqueeze", [g0, g.const("/Constant_1", np.array([0], dtype=np.int64))],
             name="/Unsqueeze")
    cat = g.op("Concat", [u, g.const("/Constant_2", np.array([-1], dtype=np.int64))],
               name="/Concat", axis=0)
    g.op("Reshape", [x, cat], name="/Reshape", outs=[g.add_output("y", ["N", 13 * 7 * 9])])
    return Case(g)


def chain_cast_case(name):
    """[N,13,7,9] -> [N, C*H, -1] with C*H computed in float through Cast, as some exporters
    emit size arithmetic; Shape with start/end (opset 15), Gather with a negative index,
    Constant value_ints; the two extents are multiplied in float and cast back to int64."""
    g = Net(name)
    x = g.add_input("x", ["N", 13, 7, 9])
    full = g.op("Shape", [x], name="/Shape")
    n = g.op("Gather", [full, g.const("/Constant", np.int64(0))], name="/Gather", axis=0)
    ch = g.op("Shape", [x], name="/Shape_1", start=1, end=3)         # [C, H]
    c = g.op("Gather", [ch, g.const("/Constant_1", np.int64(-2))], name="/Gather_1", axis=0)
    h = g.op("Gather", [ch, g.const("/Constant_2", np.int64(1))], name="/Gather_2", axis=0)
    cf = g.op("Cast", [c], name="/Cast", to=TensorProto.FLOAT)
    hf = g.op("Cast", [h], name="/Cast_1", to=TensorProto.FLOAT)
    prod = g.op("Mul", [cf, hf], name="/Mul")
    pi = g.op("Cast", [prod], name="/Cast_2", to=TensorProto.INT64)
    axes = g.op("Constant", [], name="/Constant_3", value_ints=[0])
    nu = g.op("Unsqueeze", [n, axes], name="/Unsqueeze")
    pu = g.op("Unsqueeze", [pi, axes], name="/Unsqueeze_1")
    m1 = g.op("Constant", [], name="/Constant_4", value_ints=[-1])
    cat = g.op("Concat", [nu, pu, m1], name="/Concat", axis=0)
    g.op("Reshape", [x, cat], name="/Reshape", outs=[g.add_output("y", ["N", 91, 9])])
    return Case(g)


def chain_constantofshape_case(name):
    """ConstantOfShape of constant shapes: a float [13,1,1] tensor of 0.5 added to x, and an int64
    [-1] built as ConstantOfShape([1], value=-1) ending a Reshape shape [N, -1]."""
    g = Net(name)
    x = g.add_input("x", ["N", 13, 7, 9])
    half = g.op("ConstantOfShape", [g.const("/Constant", np.array([13, 1, 1], dtype=np.int64))],
                name="/ConstantOfShape", value=g.tensor("", np.array([0.5], dtype=np.float32)))
    xa = g.op("Add", [x, half], name="/Add")
    shp = g.op("Shape", [xa], name="/Shape")
    n = g.op("Gather", [shp, g.const("/Constant_1", np.array([0], dtype=np.int64))],
             name="/Gather", axis=0)  # 1-D indices: keeps a [1] tensor, no Unsqueeze needed
    m1 = g.op("ConstantOfShape", [g.const("/Constant_2", np.array([1], dtype=np.int64))],
              name="/ConstantOfShape_1", value=g.tensor("", np.array([-1], dtype=np.int64)))
    cat = g.op("Concat", [n, m1], name="/Concat", axis=0)
    g.op("Reshape", [xa, cat], name="/Reshape", outs=[g.add_output("y", ["N", 819])])
    return Case(g)


def constant_data_case(name):
    """Constant nodes in the data path: x * Constant(value=[13,1,1]) + Constant(value_float)."""
    g = Net(name)
    x = g.add_input("x", ["N", 13, 7, 9])
    s = g.const("/Constant", rand_uniform((name, "const", "scale"), [13, 1, 1], 0.5, 1.5))
    f = g.op("Constant", [], name="/Constant_1", value_float=0.25)
    m = g.op("Mul", [x, s], name="/Mul")
    g.op("Add", [m, f], name="/Add", outs=[g.add_output("y", ["N", 13, 7, 9])])
    return Case(g)


def squeeze_case(name, opset):
    """GlobalAveragePool -> Squeeze(H, W) -> Unsqueeze(-1 / 1): axes as inputs from opset 13,
    as attributes before."""
    g = Net(name, opset)
    x = g.add_input("x", ["N", 13, 7, 9])
    p = g.op("GlobalAveragePool", [x], name="/GlobalAveragePool")
    if opset >= 13:
        s = g.op("Squeeze", [p, g.init("axes_sq", np.array([3, -2], dtype=np.int64))],
                 name="/Squeeze")
        g.op("Unsqueeze", [s, g.const("/Constant", np.array([-1], dtype=np.int64))],
             name="/Unsqueeze", outs=[g.add_output("y", ["N", 13, 1])])
    else:
        s = g.op("Squeeze", [p], name="/Squeeze", axes=[2, 3])
        g.op("Unsqueeze", [s], name="/Unsqueeze", axes=[1], outs=[g.add_output("y", ["N", 1, 13])])
    return Case(g)


def multi_out_case(name):
    """Two outputs of one input; the first is also consumed by the second's node."""
    g = Net(name)
    x = g.add_input("x", ["N", 3, 7, 9], ("u", -4.0, 4.0))
    r = g.op("Relu", [x], outs=[g.add_output("relu", ["N", 3, 7, 9])])
    g.op("Sigmoid", [r], outs=[g.add_output("sig", ["N", 3, 7, 9])])
    return Case(g)


def register_ops():
    # Conv
    reg("conv_k1_c64_13x11", conv_case, 64, 32, (13, 11), 1)
    reg("conv_k3_p1_c3_13x11", conv_case, 3, 16, (13, 11), 3, pads=(1, 1, 1, 1))
    reg("conv_k3_s2_p0121_c13_13x11_nobias", conv_case, 13, 8, (13, 11), 3, s=2,
        pads=(0, 1, 2, 1), bias=False)
    reg("conv_k5_p2_c13_7x9", conv_case, 13, 16, (7, 9), 5, pads=(2, 2, 2, 2))
    reg("conv_k7_s2_p3_c3_17x15_stem", conv_case, 3, 16, (17, 15), 7, s=2, pads=(3, 3, 3, 3),
        bias=False)
    reg("conv_k3x1_p1010_c13_7x9", conv_case, 13, 8, (7, 9), (3, 1), pads=(1, 0, 1, 0))
    reg("conv_k3_d2_p2_c13_13x11", conv_case, 13, 8, (13, 11), 3, pads=(2, 2, 2, 2), d=2)
    reg("conv_k3_s2_d2_p1021_c13_13x11", conv_case, 13, 8, (13, 11), 3, s=2, d=2,
        pads=(1, 0, 2, 1))
    reg("conv_k3_g2_p1_c64_7x9", conv_case, 64, 32, (7, 9), 3, pads=(1, 1, 1, 1), group=2)
    reg("conv_dw_k3_p1_c64_13x11", conv_case, 64, 64, (13, 11), 3, pads=(1, 1, 1, 1), group=64)
    reg("conv_dw_k3_s2_p1_c13_mult2_13x11", conv_case, 13, 26, (13, 11), 3, s=2,
        pads=(1, 1, 1, 1), group=13, bias=False)
    reg("conv_k3_same_upper_s2_c13_12x10", conv_case, 13, 8, (12, 10), 3, s=2,
        auto_pad="SAME_UPPER")
    reg("conv_k3_same_lower_s2_c13_12x10", conv_case, 13, 8, (12, 10), 3, s=2,
        auto_pad="SAME_LOWER")
    reg("conv_k4_same_upper_c13_7x9", conv_case, 13, 8, (7, 9), 4, auto_pad="SAME_UPPER")
    reg("conv_k3_valid_c13_13x11", conv_case, 13, 8, (13, 11), 3, auto_pad="VALID")
    reg("conv_k3_p1_c64_1x1", conv_case, 64, 16, (1, 1), 3, pads=(1, 1, 1, 1))
    reg("conv_k3_s2_p1_c1_7x9", conv_case, 1, 8, (7, 9), 3, s=2, pads=(1, 1, 1, 1))
    reg("conv_k2_s2_c13_13x11", conv_case, 13, 8, (13, 11), 2, s=2)
    reg("conv_k3_defaults_c13_7x9", conv_case, 13, 8, (7, 9), 3, omit_kshape=True)
    reg("conv_k3_p1_c13_7x9_fixedb3", conv_case, 13, 8, (7, 9), 3, pads=(1, 1, 1, 1),
        fixed_batch=3)
    # BatchNormalization
    reg("bn_c13_13x11", bn_case, [13, 13, 11])
    reg("bn_c1_7x9", bn_case, [1, 7, 9])
    reg("bn_2d_c64", bn_case, [64])
    reg("bn_eps1em3_c3_13x11", bn_case, [3, 13, 11], eps=1e-3)
    reg("conv_bn_k3_c13_13x11", bn_case, [13, 13, 11], after_conv=True)
    # activations
    reg("relu_c13_13x11", unary_case, "Relu", [13, 13, 11])
    reg("relu_c1_7x9", unary_case, "Relu", [1, 7, 9])
    reg("sigmoid_c13_13x11", unary_case, "Sigmoid", [13, 13, 11], gen=("u", -8.0, 8.0))
    reg("clip_0_6_c13_13x11", clip_case, [13, 13, 11], 0.0, 6.0)
    reg("clip_min_only_c13_7x9", clip_case, [13, 7, 9], -0.5, None)
    reg("clip_max_only_c13_7x9", clip_case, [13, 7, 9], None, 0.5)
    reg("clip_0_6_opset11_c13_7x9", clip_case, [13, 7, 9], 0.0, 6.0, opset=11)
    reg("clip_0_6_opset9_attr_c13_7x9", clip_case, [13, 7, 9], 0.0, 6.0, opset=9)
    reg("identity_c13_7x9", unary_case, "Identity", [13, 7, 9])
    reg("dropout_opset13_c13_7x9", dropout_case)
    reg("dropout_ratio_opset13_c13_7x9", dropout_case, ratio=0.3)
    # broadcasting binary ops
    for op in ("Add", "Sub", "Mul", "Div"):
        for pat in ("same", "c11", "scalar1", "n1hw"):
            reg(f"{op.lower()}_{pat}_c13_13x11", binary_case, op, pat)
    reg("sub_scalar0d_first_c13_13x11", binary_case, "Sub", "scalar0d_first")
    reg("mul_w_c13_13x11", binary_case, "Mul", "w")
    reg("add_c11_c64_1x1", binary_case, "Add", "c11", C=64, H=1, W=1)
    # pools
    reg("maxpool_k3_s2_p1_c13_13x11", pool_case, "MaxPool", 13, (13, 11), 3, 2, (1, 1, 1, 1))
    reg("maxpool_k3_s2_p1_neg_c3_13x11", pool_case, "MaxPool", 3, (13, 11), 3, 2, (1, 1, 1, 1),
        gen=("u", -2.0, -1.0))
    reg("maxpool_k3_s2_p1_ceil_c13_12x10", pool_case, "MaxPool", 13, (12, 10), 3, 2,
        (1, 1, 1, 1), ceil=1)
    reg("maxpool_k3_s2_ceil_c13_14x11", pool_case, "MaxPool", 13, (14, 11), 3, 2, ceil=1)
    reg("maxpool_k3_d2_p2_c13_13x11", pool_case, "MaxPool", 13, (13, 11), 3, 1, (2, 2, 2, 2), d=2)
    reg("maxpool_k2_s2_c13_13x11", pool_case, "MaxPool", 13, (13, 11), 2, 2)
    reg("maxpool_k2_s2_p0011_c13_13x11", pool_case, "MaxPool", 13, (13, 11), 2, 2, (0, 0, 1, 1))
    # Channels a multiple of 8: the GPU's vectorised pooling kernel (16 bytes of channels a
    # thread) in every precision.
    reg("maxpool_k3_s2_p1_neg_c16_13x11", pool_case, "MaxPool", 16, (13, 11), 3, 2, (1, 1, 1, 1),
        gen=("u", -2.0, -1.0))
    reg("maxpool_k3_d2_p2_c24_13x11", pool_case, "MaxPool", 24, (13, 11), 3, 1, (2, 2, 2, 2), d=2)
    reg("avgpool_k3_s2_p1_ceil_cip0_c16_12x10", pool_case, "AveragePool", 16, (12, 10), 3, 2,
        (1, 1, 1, 1), ceil=1, cip=0)
    reg("avgpool_k3_s2_p1_cip1_c24_13x11", pool_case, "AveragePool", 24, (13, 11), 3, 2,
        (1, 1, 1, 1), cip=1)
    reg("avgpool_k3_s2_p1_cip0_c13_13x11", pool_case, "AveragePool", 13, (13, 11), 3, 2,
        (1, 1, 1, 1), cip=0)
    reg("avgpool_k3_s2_p1_cip1_c13_13x11", pool_case, "AveragePool", 13, (13, 11), 3, 2,
        (1, 1, 1, 1), cip=1)
    reg("avgpool_k3_s2_p1_ceil_cip0_c13_12x10", pool_case, "AveragePool", 13, (12, 10), 3, 2,
        (1, 1, 1, 1), ceil=1, cip=0)
    reg("avgpool_k3_s2_p1_ceil_cip1_c13_12x10", pool_case, "AveragePool", 13, (12, 10), 3, 2,
        (1, 1, 1, 1), ceil=1, cip=1)
    reg("avgpool_k2_s2_ceil_c13_13x11", pool_case, "AveragePool", 13, (13, 11), 2, 2, ceil=1)
    reg("globalavgpool_c64_13x11", global_pool_case, "GlobalAveragePool", 64, (13, 11))
    reg("globalavgpool_c3_1x1", global_pool_case, "GlobalAveragePool", 3, (1, 1))
    reg("globalmaxpool_c13_7x9", global_pool_case, "GlobalMaxPool", 13, (7, 9))
    # shapes and layouts
    reg("flatten_axis1_c13_7x9", flatten_case, 1, [13, 7, 9], ["N", 819])
    reg("flatten_axis2_c13_7x9", flatten_case, 2, [13, 7, 9], [None, 63])
    reg("reshape_0_m1_c13_7x9", reshape_case, [13, 7, 9], [0, -1], ["N", 819])
    reg("reshape_m1_k_c13_7x9", reshape_case, [13, 7, 9], [-1, 819], ["N", 819])
    reg("reshape_0_13_m1_c13_7x9", reshape_case, [13, 7, 9], [0, 13, -1], ["N", 13, 63],
        constant_node=True)
    reg("reshape_0_0_0_3_3_c13_7x9", reshape_case, [13, 7, 9], [0, 0, 0, 3, 3],
        ["N", 13, 7, 3, 3])
    reg("transpose_0231_c13_7x9", transpose_case, [13, 7, 9], [0, 2, 3, 1])
    reg("transpose_0312_c13_7x9", transpose_case, [7, 9, 13], [0, 3, 1, 2])
    reg("transpose_021_5x13", transpose_case, [5, 13], [0, 2, 1])
    reg("gemm_transb_bias_k64_m10", gemm_case, 64, 10, cshape=("M",))
    reg("gemm_alpha_beta_k13_m7", gemm_case, 13, 7, transB=0, alpha=0.5, beta=2.0,
        cshape=("M",))
    reg("gemm_c1m_k13_m7", gemm_case, 13, 7, cshape=(1, "M"))
    reg("gemm_cscalar_k13_m7", gemm_case, 13, 7, transB=0, cshape=(1,))
    reg("gemm_noc_k64_m10", gemm_case, 64, 10)
    reg("matmul_k64_m10", matmul_case, [], 64, 10)
    reg("matmul_3d_k13_m7", matmul_case, [5], 13, 7)
    reg("softmax_axis1_c10", softmax_case, [10], axis=1)
    reg("softmax_axis1_c13_7x9", softmax_case, [13, 7, 9], axis=1)
    reg("softmax_axism1_c13_7x9", softmax_case, [13, 7, 9], axis=-1)
    reg("softmax_opset11_default_c13_7x9", softmax_case, [13, 7, 9], opset=11)
    reg("concat_axis1_c3_c13_7x9", concat_case, [3, 13], (7, 9))
    reg("concat_axis1_c1_c13_c3_7x9", concat_case, [1, 13, 3], (7, 9))
    reg("pad_const_0_p0012_0021_c13_7x9", pad_case, [13, 7, 9], [0, 0, 1, 2, 0, 0, 2, 1])
    reg("pad_const_val_c13_7x9", pad_case, [13, 7, 9], [0, 0, 1, 1, 0, 0, 0, 2], value=0.5)
    reg("pad_reflect_c13_7x9", pad_case, [13, 7, 9], [0, 0, 2, 1, 0, 0, 1, 3], mode="reflect")
    reg("pad_edge_c13_7x9", pad_case, [13, 7, 9], [0, 0, 3, 0, 0, 0, 1, 2], mode="edge")
    # shape arithmetic folded at load
    reg("chain_flatten_pt_c13_7x9", chain_flatten_case)
    reg("chain_cast_reshape_c13_7x9", chain_cast_case)
    reg("chain_constantofshape_c13_7x9", chain_constantofshape_case)
    reg("constant_data_c13_7x9", constant_data_case)
    reg("squeeze_unsqueeze_opset13_c13_7x9", squeeze_case, 13)
    reg("squeeze_unsqueeze_opset11_c13_7x9", squeeze_case, 11)
    reg("multi_out_relu_sigmoid_c3_7x9", multi_out_case)


# --------------------------------------------------------------------------------------------
# Whole networks, in two exporter dialects

def pt_scope(path):
    """torch.onnx scope names: 'layer1.0.conv1' -> '/layer1/layer1.0/conv1'."""
    segs = []
    for p in path.split(".") if path else []:
        segs.append(segs[-1] + "." + p if (p.isdigit() and segs) else p)
    return "/" + "/".join(segs)


class Emit:
    """Layers as torch.onnx.export (dialect 'pt', training=False, no constant folding) or a
    TF/Keras converter (dialect 'cv') would write them."""

    def __init__(self, g, bn_eps=1e-5):
        self.g = g
        self.pt = g.style == "pt"
        self.bn_eps = bn_eps
        self.clip_consts = None

    def name(self, path, op):
        if self.pt:
            return (pt_scope(path) if path else "") + "/" + op
        return path + "/" + op

    def pad(self, path, x, tlbr):
        t, l, b, r = tlbr
        pads = [0, 0, t, l, 0, 0, b, r]
        if self.g.opset < 11:
            return self.g.op("Pad", [x], name=self.name(path, "Pad"), mode="constant", pads=pads,
                             value=0.0)
        return self.g.op("Pad", [x, self.g.init(path + "/paddings", np.array(pads, np.int64))],
                         name=self.name(path, "Pad"), mode="constant")

    def conv(self, path, x, cin, cout, k, s=1, p=0, group=1, bias=False, std_scale=1.0,
             pad_mode=None, tlbr=None):
        """pt: Conv pads [p]*4. cv: pad_mode 'same' (auto_pad SAME_UPPER), 'pad' (a Pad node
        with tlbr, or [p]*4, then an unpadded Conv) or None (no padding)."""
        g = self.g
        fan_in = cin // group * k * k
        std = math.sqrt(2.0 / fan_in) * std_scale
        if self.pt:
            ins = [x, g.weight(path + ".weight", [cout, cin // group, k, k], std)]
            if bias:
                ins.append(g.uniform(path + ".bias", [cout], -0.1, 0.1))
            return g.op("Conv", ins, name=self.name(path, "Conv"), dilations=[1, 1], group=group,
                        kernel_shape=[k, k], pads=[p, p, p, p], strides=[s, s])
        attrs = dict(dilations=[1, 1], kernel_shape=[k, k], strides=[s, s])
        if group != 1:
            attrs["group"] = group
        if pad_mode == "same":
            attrs["auto_pad"] = "SAME_UPPER"
        elif pad_mode == "pad":
            x = self.pad(path, x, tlbr if tlbr else (p, p, p, p))
        else:
            assert pad_mode is None and p == 0
        ins = [x, g.weight(path + "/kernel", [cout, cin // group, k, k], std)]
        if bias:
            ins.append(g.uniform(path + "/bias", [cout], -0.1, 0.1))
        return g.op("Conv", ins, name=self.name(path, "depthwise" if group > 1 else "Conv2D"),
                    **attrs)

    def bn(self, path, x, c):
        if self.pt:
            ps = bn_params(self.g, path, c)
            return self.g.op("BatchNormalization", [x] + ps,
                             name=self.name(path, "BatchNormalization"), epsilon=self.bn_eps,
                             momentum=0.9)
        ps = bn_params(self.g, path, c, ("gamma", "beta", "moving_mean", "moving_variance"), "/")
        return self.g.op("BatchNormalization", [x] + ps, name=self.name(path, "FusedBatchNormV3"),
                         epsilon=self.bn_eps)

    def relu(self, path, x):
        return self.g.op("Relu", [x], name=self.name(path, "Relu"))

    def relu6(self, path, x):
        g = self.g
        if g.opset < 11:
            return g.op("Clip", [x], name=self.name(path, "Relu6"), min=0.0, max=6.0)
        if self.pt:
            lo = g.const(self.name(path, "Constant"), np.float32(0.0))
            hi = g.const(self.name(path, "Constant"), np.float32(6.0))
            return g.op("Clip", [x, lo, hi], name=self.name(path, "Clip"))
        if self.clip_consts is None:  # converters share one pair of constants
            self.clip_consts = (g.init("const_fold_opt__relu6_min", np.float32(0.0)),
                                g.init("const_fold_opt__relu6_max", np.float32(6.0)))
        return g.op("Clip", [x] + list(self.clip_consts), name=self.name(path, "Relu6"))

    def add(self, path, a, b):
        return self.g.op("Add", [a, b], name=self.name(path, "Add" if self.pt else "add"))

    def maxpool(self, path, x, k, s, p=0, ceil=0):
        attrs = dict(kernel_shape=[k, k], strides=[s, s])
        if self.pt:
            attrs.update(ceil_mode=ceil, dilations=[1, 1], pads=[p, p, p, p])
        else:
            if p:  # a Keras ZeroPadding2D before a valid MaxPool2D; fine after a ReLU
                x = self.pad(path + "_pad", x, (p, p, p, p))
            if ceil:
                attrs["ceil_mode"] = 1
        return self.g.op("MaxPool", [x], name=self.name(path, "MaxPool"), **attrs)

    def gap(self, path, x):
        return self.g.op("GlobalAveragePool", [x], name=self.name(path, "GlobalAveragePool"))

    def flatten(self, x, K, chain=False, out=None):
        """pt: Flatten(axis 1) or the x.view(x.size(0), -1) chain; cv: Reshape to [-1, K]."""
        g = self.g
        outs = [out] if out else None
        if self.pt and not chain:
            return g.op("Flatten", [x], name="/Flatten", outs=outs, axis=1)
        if self.pt:
            shp = g.op("Shape", [x], name="/Shape")
            n = g.op("Gather", [shp, g.const("/Constant", np.int64(0))], name="/Gather", axis=0)
            u = g.op("Unsqueeze", [n, g.const("/Constant", np.array([0], np.int64))],
                     name="/Unsqueeze")
            cat = g.op("Concat", [u, g.const("/Constant", np.array([-1], np.int64))],
                       name="/Concat", axis=0)
            return g.op("Reshape", [x, cat], name="/Reshape", outs=outs)
        return g.op("Reshape", [x, g.init("flatten/shape", np.array([-1, K], np.int64))],
                    name="flatten/Reshape", outs=outs)

    def fc(self, path, x, K, M, out=None):
        g = self.g
        std = math.sqrt(2.0 / K)
        outs = [out] if out else None
        if self.pt:
            w = g.weight(path + ".weight", [M, K], std)
            b = g.uniform(path + ".bias", [M], -0.1, 0.1)
            return g.op("Gemm", [x, w, b], name=self.name(path, "Gemm"), outs=outs, alpha=1.0,
                        beta=1.0, transB=1)
        w = g.weight(path + "/kernel", [K, M], std)
        b = g.uniform(path + "/bias", [M], -0.1, 0.1)
        y = g.op("MatMul", [x, w], name=self.name(path, "MatMul"))
        return g.op("Add", [y, b], name=self.name(path, "BiasAdd"), outs=outs)

    def dropout(self, path, x, ratio):
        g = self.g
        if g.opset >= 12:
            return g.op("Dropout", [x, g.const(self.name(path, "Constant"), np.float32(ratio))],
                        name=self.name(path, "Dropout"))
        return g.op("Dropout", [x], name=self.name(path, "Dropout"), ratio=float(ratio))


def net_io(g, hw, nhwc=False):
    if g.style == "pt":
        return g.add_input("input", ["N", 3, hw, hw])
    if nhwc:
        x = g.add_input("input_1:0", ["N", hw, hw, 3])
        return g.op("Transpose", [x], name="model/input_transpose", perm=[0, 3, 1, 2])
    return g.add_input("input_1:0", ["N", 3, hw, hw])


def out_name(g, base="logits"):
    return base if g.style == "pt" else base + ":0"


def resnet50_case(name, style, hw, width=1.0, nhwc=False, external=False):
    """ResNet-50 v1.5: the stride of a downsampling bottleneck is on its 3x3 conv."""
    opset = 17 if style == "pt" else 11
    g = Net(name, opset, style=style)
    e = Emit(g, bn_eps=1e-5 if style == "pt" else 1.001e-5)
    cv = style == "cv"
    stem = int(64 * width)
    x = net_io(g, hw, nhwc)
    if cv:
        x = e.conv("conv1_conv", x, 3, stem, 7, 2, 3, pad_mode="pad")
        x = e.relu("conv1_relu", e.bn("conv1_bn", x, stem))
        x = e.maxpool("pool1_pool", x, 3, 2, 1)
    else:
        x = e.relu("relu", e.bn("bn1", e.conv("conv1", x, 3, stem, 7, 2, 3), stem))
        x = e.maxpool("maxpool", x, 3, 2, 1)
    cin = stem
    # Plain He init makes every bottleneck grow the activations (x >= 0 after the ReLU plus a
    # branch of similar size): x40 by layer4. So conv3 of each residual branch and the shortcut
    # convs get smaller weights (a Fixup-like choice); BN gamma stays in [0.5, 1.5).
    res_scale = 0.25
    ds_scale = math.sqrt(0.5)
    for si, (nb, w0) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
        w = int(w0 * width)
        cout = 4 * w
        for b in range(nb):
            s = 2 if (b == 0 and si > 0) else 1
            p = f"layer{si + 1}.{b}" if not cv else f"conv{si + 2}_block{b + 1}"
            sep = "." if not cv else "_"
            nm = (lambda a, c=None: p + sep + (a if not cv else c))
            y = e.conv(nm("conv1", "1_conv"), x, cin, w, 1)
            y = e.relu(nm("relu", "1_relu"), e.bn(nm("bn1", "1_bn"), y, w))
            # cv: stride-2 3x3 convs use SAME_UPPER (asymmetric pads on even sizes), stride 1
            # ones alternate between SAME_UPPER and an explicit Pad node
            pm = "same" if (s == 2 or b % 2 == 0) else "pad"
            y = e.conv(nm("conv2", "2_conv"), y, w, w, 3, s, 1, pad_mode=pm)
            y = e.relu(nm("relu", "2_relu"), e.bn(nm("bn2", "2_bn"), y, w))
            y = e.conv(nm("conv3", "3_conv"), y, w, cout, 1, std_scale=res_scale)
            y = e.bn(nm("bn3", "3_bn"), y, cout)
            idn = x
            if b == 0:
                idn = e.conv(nm("downsample.0", "0_conv"), x, cin, cout, 1, s, std_scale=ds_scale)
                idn = e.bn(nm("downsample.1", "0_bn"), idn, cout)
            x = e.relu(nm("relu", "out"), e.add(p, y, idn))
            cin = cout
    x = e.gap("avgpool" if not cv else "avg_pool", x)
    x = e.flatten(x, cin)
    out = out_name(g)
    e.fc("fc" if not cv else "predictions", x, cin, 1000, out=out)
    g.add_output(out, ["N", 1000])
    return Case(g, kind="net", tol=TOL_NET, external=external, check="logits")


def make_divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


def mobilenetv2_case(name, style, hw, width=0.5, external=False):
    opset = 17 if style == "pt" else 11
    g = Net(name, opset, style=style)
    e = Emit(g)
    cv = style == "cv"
    x = net_io(g, hw)
    size = hw

    def cbr(path, x, cin, cout, k, s=1, group=1, act=True, res_scale=1.0):
        """Conv+BN+ReLU6 (pt); the converter folds the BN into the conv bias (cv)."""
        nonlocal size
        p = (k - 1) // 2
        if cv:
            if s == 2:  # keras correct_pad: ((0, 1), (0, 1)) on even sizes, then a valid conv
                a = 1 - size % 2
                y = e.conv(path, x, cin, cout, k, s, group=group, bias=True, pad_mode="pad",
                           tlbr=(p - a, p - a, p, p), std_scale=res_scale)
            else:
                y = e.conv(path, x, cin, cout, k, s, group=group, bias=True,
                           pad_mode="same" if k > 1 else None, std_scale=res_scale)
            if act:
                y = e.relu6(path, y)
        else:
            y = e.conv(path + ".0", x, cin, cout, k, s, p, group=group, std_scale=res_scale)
            y = e.bn(path + ".1", y, cout)
            if act:
                y = e.relu6(path + ".2", y)
        size = -(-size // s)
        return y

    cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
           (6, 160, 3, 2), (6, 320, 1, 1)]
    cin = make_divisible(32 * width)
    last = make_divisible(1280 * max(1.0, width))
    x = cbr("features.0" if not cv else "Conv1", x, 3, cin, 3, 2)
    idx = 1
    for t, c, n, s in cfg:
        cout = make_divisible(c * width)
        for i in range(n):
            stride = s if i == 0 else 1
            hid = cin * t
            base = f"features.{idx}.conv" if not cv else f"block_{idx}"
            y = x
            j = 0
            if t != 1:
                y = cbr(f"{base}.{j}" if not cv else base + "_expand", y, cin, hid, 1)
                j += 1
            y = cbr(f"{base}.{j}" if not cv else base + "_depthwise", y, hid, hid, 3, stride,
                    group=hid)
            j += 1
            residual = stride == 1 and cin == cout
            rs = 0.5 if residual else 1.0
            if cv:
                y = cbr(base + "_project", y, hid, cout, 1, act=False, res_scale=rs)
            else:
                y = e.conv(f"{base}.{j}", y, hid, cout, 1, std_scale=rs)
                y = e.bn(f"{base}.{j + 1}", y, cout)
            if residual:
                y = e.add(f"features.{idx}" if not cv else base, x, y)
            x = y
            cin = cout
            idx += 1
    x = cbr(f"features.{idx}" if not cv else "Conv_1", x, cin, last, 1)
    x = e.gap("" if not cv else "global_average_pooling2d", x)
    x = e.flatten(x, last, chain=True)
    if not cv:
        x = e.dropout("classifier.0", x, 0.2)
    out = out_name(g)
    e.fc("classifier.1" if not cv else "predictions", x, last, 1000, out=out)
    g.add_output(out, ["N", 1000])
    return Case(g, kind="net", tol=TOL_NET, external=external, check="logits")


def squeezenet_case(name, style, hw, external=False):
    """SqueezeNet 1.0 layout: 7x7/2 stem, ceil-mode max pools, fire modules, conv classifier,
    GlobalAveragePool, Flatten/Reshape, Softmax."""
    opset = 17 if style == "pt" else 11
    g = Net(name, opset, style=style)
    e = Emit(g)
    cv = style == "cv"
    x = net_io(g, hw)
    if cv:
        x = e.relu("conv1", e.conv("conv1", x, 3, 96, 7, 2, bias=True))
    else:
        x = e.relu("features.1", e.conv("features.0", x, 3, 96, 7, 2, bias=True))
    fires = {3: (96, 16, 64), 4: (128, 16, 64), 5: (128, 32, 128), 7: (256, 32, 128),
             8: (256, 48, 192), 9: (384, 48, 192), 10: (384, 64, 256), 12: (512, 64, 256)}
    for i in range(2, 13):
        if i in (2, 6, 11):
            x = e.maxpool(f"features.{i}" if not cv else f"maxpool{i}", x, 3, 2, 0, ceil=1)
            continue
        cin, sq, ex = fires[i]
        p = f"features.{i}" if not cv else f"fire{i}"
        sep = "." if not cv else "/"
        s = e.conv(p + sep + "squeeze", x, cin, sq, 1, bias=True)
        s = e.relu(p + sep + "squeeze_activation", s)
        a = e.relu(p + sep + "expand1x1_activation",
                   e.conv(p + sep + "expand1x1", s, sq, ex, 1, bias=True))
        b = e.relu(p + sep + "expand3x3_activation",
                   e.conv(p + sep + "expand3x3", s, sq, ex, 3, 1, 1, bias=True,
                          pad_mode="pad" if i % 2 else "same"))
        x = g.op("Concat", [a, b], name=e.name(p, "Concat"), axis=1)
    x = e.conv("classifier.1" if not cv else "conv10", x, 512, 1000, 1, bias=True)
    x = e.relu("classifier.2" if not cv else "conv10", x)
    x = e.gap("classifier.3" if not cv else "global_pool", x)
    x = e.flatten(x, 1000)
    out = out_name(g, "prob")
    g.op("Softmax", [x], name="/Softmax" if not cv else "prob/Softmax", outs=[out],
         **({"axis": 1} if not cv else {}))
    g.add_output(out, ["N", 1000])
    return Case(g, kind="net", tol=(2e-3, 1e-6), external=external, check="probs")


def vgg_case(name, style, opset, external=False):
    """Small VGG: 3x3 convs, 2x2 max pools, two fully connected layers with Dropout, 32x32."""
    g = Net(name, opset, style=style)
    e = Emit(g)
    cv = style == "cv"
    x = net_io(g, 32)
    chans = [(3, 16), (16, 16), "M", (16, 32), (32, 32), "M", (32, 64), "M"]
    i = 0
    for c in chans:
        if c == "M":
            x = e.maxpool(f"features.{i}" if not cv else f"block{i}_pool", x, 2, 2)
            i += 1
            continue
        cin, cout = c
        path = f"features.{i}" if not cv else f"block{i}_conv"
        x = e.conv(path, x, cin, cout, 3, 1, 1, bias=True, pad_mode="pad")
        x = e.relu(f"features.{i + 1}" if not cv else path, x)
        i += 2
    K = 64 * 4 * 4
    x = e.flatten(x, K, chain=True)
    x = e.fc("classifier.0" if not cv else "dense", x, K, 128)
    x = e.relu6("classifier.1" if not cv else "dense", x) if cv else e.relu("classifier.1", x)
    x = e.dropout("classifier.2" if not cv else "dropout", x, 0.5)
    out = out_name(g)
    e.fc("classifier.3" if not cv else "dense_1", x, 128, 10, out=out)
    g.add_output(out, ["N", 10])
    return Case(g, kind="net", tol=TOL_NET, external=external, check="logits")


def register_nets():
    reg("resnet50_pt", resnet50_case, "pt", 224, external=True)
    reg("resnet50_cv", resnet50_case, "cv", 64, width=0.5, nhwc=True)
    reg("mobilenetv2_pt", mobilenetv2_case, "pt", 96)
    reg("mobilenetv2_cv", mobilenetv2_case, "cv", 96, external=True)
    reg("squeezenet_pt", squeezenet_case, "pt", 111)
    reg("squeezenet_cv", squeezenet_case, "cv", 111)
    reg("vgg_pt", vgg_case, "pt", 17)
    reg("vgg_cv9", vgg_case, "cv", 9)


register_ops()
register_nets()

# --------------------------------------------------------------------------------------------
# Writing, checking, references


def externalize(model, location):
    """Moves the big initializers into one data blob; returns it."""
    data = bytearray()
    for t in model.graph.initializer:
        if t.HasField("raw_data") and len(t.raw_data) >= EXT_THRESHOLD:
            data += b"\x00" * ((-len(data)) % EXT_ALIGN)
            off = len(data)
            data += t.raw_data
            n = len(t.raw_data)
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", location), ("offset", str(off)), ("length", str(n))):
                e = t.external_data.add()
                e.key = k
                e.value = v
    return bytes(data)


def check_model(case):
    m = case.net.m
    try:
        onnx.checker.check_model(m, full_check=False)
        inferred = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    except TypeError:  # an old onnx on the regenerating machine: no such keywords
        onnx.checker.check_model(m)
        inferred = onnx.shape_inference.infer_shapes(m)
    # strict mode already fails on a declared output shape that contradicts the inferred one;
    # also require that every declared output was reached
    names = {o.name for o in inferred.graph.output}
    assert names == {o for o, _ in case.net.outputs}, names


def concrete(shape, b):
    return [b if d == "N" else d for d in shape]


def write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def ort_session(path, optimized=False):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimized
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def net_checks(case, outs, b):
    """Whole-net outputs are O(1), depend on the input and are not saturated; returns the std."""
    sd = None
    for y in outs:
        if case.check == "probs":
            assert np.all(y > 0), f"{case.name}: a probability underflowed to 0"
            lg = np.log(y.astype(np.float64))
            logits = lg - lg.mean(axis=1, keepdims=True)
        else:
            logits = y.astype(np.float64)
        sd = float(logits.std())
        assert 0.1 <= sd <= 100.0, f"{case.name}: std of the logits {sd}"
        if b > 1:  # distinct inputs give distinct outputs: not all saturated
            diff = float(np.abs(logits[0] - logits[1]).max())
            assert diff > 0.01 * sd, f"{case.name}: outputs do not depend on the input"
        if case.check == "probs":
            assert np.allclose(y.sum(axis=1), 1.0, atol=1e-4)
    return sd


def ratio(got, want, tol):
    rtol, atol = tol
    return float(np.max(np.abs(got.astype(np.float64) - want) / (atol + rtol * np.abs(want))))


def dev_check(case, path, feeds, want):
    """Returns the worst |err| / allowed over onnxruntime-optimised and onnx reference evaluator."""
    res = {}
    sess = ort_session(path, optimized=True)
    got = sess.run(None, feeds)
    res["ort_opt"] = max(ratio(g_, w, case.tol) for g_, w in zip(got, want))
    if case.kind == "op":
        from onnx.reference import ReferenceEvaluator
        try:
            ref = ReferenceEvaluator(path)
            got = ref.run(None, feeds)
            res["onnx_ref"] = max(ratio(np.asarray(g_), w, case.tol) for g_, w in zip(got, want))
        except Exception as ex:  # noqa: BLE001 - a dev aid only
            res["onnx_ref"] = f"failed: {type(ex).__name__}: {str(ex)[:80]}"
    return res


def generate(case, out_dir, refs, dev, verbose):
    t0 = time.time()
    name = case.name
    check_model(case)
    m = case.net.m
    onnx_path = os.path.join(out_dir, name + ".onnx")
    data_sha = None
    if case.external:
        loc = name + ".onnx.data"
        data = externalize(m, loc)
        write_file(os.path.join(out_dir, loc), data)
        data_sha = (loc, hashlib.sha256(data).hexdigest())
    blob = m.SerializeToString(deterministic=True)
    write_file(onnx_path, blob)
    if case.external:
        onnx.checker.check_model(onnx_path)
    lines = ["# cudago nn test case v1",
             "# generated by scripts/gen-models.py; do not edit",
             f"model {name}.onnx",
             f"sha256 {hashlib.sha256(blob).hexdigest()}"]
    if data_sha:
        lines.append(f"# external data {data_sha[0]} sha256 {data_sha[1]}")
    lines += [f"kind {case.kind}", f"max_batch {case.max_batch}",
              f"tol {case.tol[0]:.3g} {case.tol[1]:.3g}"]
    sess = ort_session(onnx_path) if refs else None
    info = []
    for k, b in enumerate(case.batches):
        assert 1 <= b <= case.max_batch
        lines.append("run")
        feeds = {}
        files = set()
        for iname, shape, gen in case.net.inputs:
            arr = gen_input((name, f"run{k}", iname), concrete(shape, b), gen)
            feeds[iname] = arr
            fn = f"{name}.r{k}.{sanitize(iname)}.bin"
            assert fn not in files
            files.add(fn)
            write_file(os.path.join(out_dir, fn), arr.tobytes())
            lines.append(" ".join(["input", iname, "f32"] + [str(d) for d in arr.shape] + [fn]))
        if not refs:
            continue
        outs = sess.run(None, feeds)
        for (oname, shape), y in zip(case.net.outputs, outs):
            assert y.dtype == np.float32
            want = concrete(shape, b)
            ok = len(want) == y.ndim and all(w is None or w == d for w, d in zip(want, y.shape))
            assert ok, f"{name}: output {oname} shape {y.shape}, declared {want}"
            assert np.all(np.isfinite(y)), f"{name}: non-finite output"
            fn = f"{name}.r{k}.{sanitize(oname)}.bin"
            assert fn not in files
            files.add(fn)
            write_file(os.path.join(out_dir, fn), np.ascontiguousarray(y, dtype="<f4").tobytes())
            lines.append(" ".join(["output", oname, "f32"] + [str(d) for d in y.shape] + [fn]))
        if case.kind == "net":
            info.append(f"logit std {net_checks(case, outs, b):.3g}")
        if dev:
            info.append(str(dev_check(case, onnx_path, feeds, outs)))
    write_file(os.path.join(out_dir, name + ".test"), ("\n".join(lines) + "\n").encode())
    if verbose or dev:
        print(f"  {name}: {time.time() - t0:.2f}s {' '.join(info)}")
    return len(case.batches)


def verify(out_dir, names=None):
    """The reader check: every manifest parses and names files of the right size."""
    tests = sorted(f for f in os.listdir(out_dir) if f.endswith(".test"))
    if names is not None:
        tests = [t for t in tests if t[:-5] in names]
    nruns = 0
    for t in tests:
        model, sha, kind, mb, tol, runs = None, None, None, None, None, []
        with open(os.path.join(out_dir, t)) as f:
            for ln, line in enumerate(f, 1):
                line = line.split("#", 1)[0].split()
                if not line:
                    continue
                d, a = line[0], line[1:]
                where = f"{t}:{ln}"
                if d == "model":
                    model = a[0]
                elif d == "sha256":
                    sha = a[0]
                elif d == "kind":
                    kind = a[0]
                    assert kind in ("op", "net"), where
                elif d == "max_batch":
                    mb = int(a[0])
                elif d == "tol":
                    tol = (float(a[0]), float(a[1]))
                elif d == "run":
                    runs.append([])
                elif d in ("input", "output"):
                    assert runs, f"{where}: {d} before run"
                    assert a[1] == "f32", where
                    dims = [int(v) for v in a[2:-1]]
                    size = os.path.getsize(os.path.join(out_dir, a[-1]))
                    assert size == 4 * int(np.prod(dims, dtype=np.int64)), f"{where}: size {size}"
                    if d == "input":
                        assert 1 <= dims[0] <= mb, f"{where}: batch above max_batch"
                    runs[-1].append((d, a[0]))
                else:
                    raise AssertionError(f"{where}: unknown directive {d}")
        assert model and sha and kind and mb and tol and runs, t
        with open(os.path.join(out_dir, model), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha, f"{t}: sha256 of {model}"
        for r in runs:
            assert any(d == "input" for d, _ in r), f"{t}: run without input"
        nruns += len(runs)
    return len(tests), nruns


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="output directory (created if missing)")
    ap.add_argument("--only", help="regex: generate only the models whose name it matches")
    ap.add_argument("--no-refs", action="store_true", help="no onnxruntime: no output tensors")
    ap.add_argument("--stamp", help="file to touch at the end")
    ap.add_argument("--verify", metavar="DIR", help="only check the manifests of DIR")
    ap.add_argument("--dev-check", action="store_true",
                    help="compare with optimised onnxruntime / onnx reference (slow)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.verify:
        n, r = verify(args.verify)
        print(f"gen-models: verified {n} manifests, {r} runs in {args.verify}")
        return
    if not args.out:
        ap.error("--out is required")
    names = [n for n, _ in CASES]
    assert len(set(names)) == len(names), "duplicate model names"
    assert all(re.fullmatch(r"[a-z0-9_]+", n) for n in names)
    sel = [(n, fn) for n, fn in CASES if not args.only or re.search(args.only, n)]
    if not sel:
        sys.exit(f"gen-models: no model matches {args.only!r}")
    os.makedirs(args.out, exist_ok=True)
    runs = 0
    for n, fn in sel:
        case = fn()
        assert case.name == n
        try:
            runs += generate(case, args.out, not args.no_refs, args.dev_check, args.verbose)
        except Exception:
            print(f"gen-models: failed on {n}", file=sys.stderr)
            raise
    vn, vr = verify(args.out, {n for n, _ in sel})
    assert (vn, vr) == (len(sel), runs), (vn, vr)
    if args.stamp:
        with open(args.stamp, "a"):
            os.utime(args.stamp, None)
    print(f"gen-models: {len(sel)} models, {runs} runs in {args.out}")


if __name__ == "__main__":
    main()
