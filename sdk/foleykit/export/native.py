"""The native model file (``.fkm``): FoleyKit's own runtime format, derived from an exported
ONNX file alone (``native/src/model/format.hpp`` describes the layout).

Deriving it from the ONNX graph, not from a torch checkpoint, means the shipped default
models (which have no checkpoints) convert too, and that the ``.onnx`` and the ``.fkm`` hold
the same weights: fp16 and int8 exports are expanded to float32 exactly as ONNX Runtime
expands them (``Cast``; ``(q - zero_point) * scale`` in float32).

- :func:`write_native` reads and validates an exported ``.onnx``, recognises its graph
  (ClipDecoder for vae/gan, CausalTransformer for transformer) and writes the ``.fkm``;
- :func:`read_native` is a strict reader (magic, version, sizes, checksum, padding, table);
- :func:`reference_forward` runs a model from the ``.fkm`` contents alone in plain numpy,
  which is how the tests prove the converter right against ONNX Runtime.

Every problem with the input (not a FoleyKit model, unknown family, a tensor missing or of
the wrong shape, a graph that computes something the native architectures do not) raises
:class:`~foleykit.export.metadata.ModelFileError` naming it.
"""
from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import numpy as np

from .metadata import ModelFileError

__all__ = ["write_native", "read_native", "reference_forward", "convert_model", "fnv1a64",
           "MAGIC", "FORMAT", "VERSION", "ALIGN"]

MAGIC = b"FKMODEL\0"
FORMAT = "foleykit-native"
VERSION = 1
ALIGN = 64
HEADER_BYTES = 32
MAX_JSON_BYTES = 1 << 20
MAX_FILE_BYTES = 256 << 20
MAX_TENSORS = 4096
MAX_RANK = 4
MAX_NAME_BYTES = 256

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1

PathLike = Union[str, Path]


def fnv1a64(data: bytes, h: int = _FNV_OFFSET) -> int:
    """FNV-1a 64 of ``data`` (the file checksum; format.hpp's ``fnv1a64``)."""
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _MASK64
    return h


def _round_up(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


def _f32(x: float) -> float:
    """A float32 attribute/constant as the shortest decimal that reads back as the same
    float32 (0.2, 1e-05) rather than its double expansion (0.20000000298023224)."""
    return float(str(np.float32(x)))


# -- reading the ONNX graph --------------------------------------------------------------------

class _Graph:
    """Index of an ONNX graph: producers, consumers, and every tensor whose value is known
    without running the model (initializers, Constant nodes, and Cast / DequantizeLinear of
    those, evaluated as ONNX Runtime evaluates them)."""

    # Identity: torch's exporter stores equal initializers once and aliases the rest (an
    # untrained model's LayerNorms, or level bounds equal to the feature bounds).
    WEIGHT_OPS = ("Cast", "DequantizeLinear", "Identity")

    def __init__(self, proto) -> None:
        from onnx import numpy_helper

        g = proto.graph
        self.g = g
        self.nodes = list(g.node)
        self.producer: Dict[str, Any] = {}
        self.consumers: Dict[str, List[Any]] = {}
        for n in self.nodes:
            for o in n.output:
                if o:
                    self.producer[o] = n
            for i in n.input:
                if i:
                    self.consumers.setdefault(i, []).append(n)
        init_names = set()
        self.values: Dict[str, np.ndarray] = {}
        self.weights: Dict[str, np.ndarray] = {}  # float tensors from initializers (resolved)
        for t in g.initializer:
            try:
                self.values[t.name] = numpy_helper.to_array(t)
            except Exception as e:  # external data, unknown type...
                raise ModelFileError(f"initializer {t.name!r} cannot be read: {e}") from None
            init_names.add(t.name)
        self.inputs = [i for i in g.input if i.name not in init_names]
        self.outputs = list(g.output)
        from_init = set(init_names)
        for n in self.nodes:  # topologically sorted (the checker requires it)
            if n.op_type == "Constant":
                self.values[n.output[0]] = self._constant(n)
            elif n.op_type in self.WEIGHT_OPS and all(i in self.values for i in n.input if i):
                self.values[n.output[0]] = self._eval_weight_op(n)
                if any(i in from_init for i in n.input if i):
                    from_init.add(n.output[0])
        for n in self.nodes:  # ONNX Runtime would run these on activations: not modelled
            if n.op_type in self.WEIGHT_OPS and n.output[0] not in self.values:
                raise ModelFileError(f"unrecognised graph: {n.op_type} node {n.name!r} "
                                     "converts a computed value, not a stored weight")
        for name in from_init:
            v = self.values[name]
            if v.dtype == np.float32:
                self.weights[name] = v
        # weights a computing node reads (not the raw inputs of a Cast / DequantizeLinear)
        self.used_weights = {i for n in self.nodes if n.op_type not in self.WEIGHT_OPS
                             for i in n.input if i in self.weights}

    @staticmethod
    def _constant(n) -> np.ndarray:
        from onnx import helper, numpy_helper

        for a in n.attribute:
            v = helper.get_attribute_value(a)
            if a.name == "value":
                return numpy_helper.to_array(v)
            if a.name == "value_float":
                return np.array(v, np.float32)
            if a.name == "value_floats":
                return np.array(list(v), np.float32)
            if a.name == "value_int":
                return np.array(v, np.int64)
            if a.name == "value_ints":
                return np.array(list(v), np.int64)
        raise ModelFileError(f"Constant node {n.name!r} has no value this converter reads")

    def _eval_weight_op(self, n) -> np.ndarray:
        from onnx import TensorProto, helper

        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        x = self.values[n.input[0]]
        if n.op_type == "Identity":
            return x.copy()
        if n.op_type == "Cast":
            to = attrs.get("to")
            if to != TensorProto.FLOAT:
                raise ModelFileError(f"Cast node {n.name!r} casts a weight to type {to}, not "
                                     "float32")
            if x.dtype not in (np.float16, np.float32, np.float64):
                raise ModelFileError(f"Cast node {n.name!r} casts a {x.dtype} weight")
            return x.astype(np.float32)
        # DequantizeLinear: y = (x - zero_point) * scale in float32, per tensor or per axis
        scale = self.values[n.input[1]]
        zp = self.values[n.input[2]] if len(n.input) > 2 and n.input[2] else \
            np.zeros_like(scale, dtype=x.dtype)
        if x.dtype not in (np.int8, np.uint8) or scale.dtype != np.float32 or \
                zp.dtype != x.dtype:
            raise ModelFileError(f"DequantizeLinear node {n.name!r} has types {x.dtype}, "
                                 f"{scale.dtype}, {zp.dtype}; expected (u)int8, float32, "
                                 "(u)int8")
        if scale.ndim == 0:
            shape = ()
        else:
            axis = int(attrs.get("axis", 1))
            axis = axis + x.ndim if axis < 0 else axis
            if scale.ndim != 1 or not 0 <= axis < x.ndim or scale.shape[0] != x.shape[axis] \
                    or zp.shape != scale.shape:
                raise ModelFileError(f"DequantizeLinear node {n.name!r} has a scale of shape "
                                     f"{list(scale.shape)} for a weight of shape "
                                     f"{list(x.shape)} (axis {axis})")
            shape = tuple(-1 if d == axis else 1 for d in range(x.ndim))
        diff = (x.astype(np.int32) - zp.astype(np.int32).reshape(shape)).astype(np.float32)
        return diff * scale.reshape(shape)

    # small helpers -----------------------------------------------------------------------

    @staticmethod
    def attrs(n) -> Dict[str, Any]:
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in n.attribute}

    def by_op(self, op: str) -> List[Any]:
        return [n for n in self.nodes if n.op_type == op]

    def io_shape(self, vi) -> List[Optional[int]]:
        t = vi.type.tensor_type
        return [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]

    def scalar(self, name: str, what: str) -> float:
        v = self.values.get(name)
        if v is None or v.size != 1:
            raise ModelFileError(f"{what} is not a constant scalar in the graph")
        return float(v.reshape(()))


def _check_ops(gr: _Graph, allowed: Iterable[str], what: str) -> None:
    allowed = set(allowed) | {"Constant"} | set(_Graph.WEIGHT_OPS)
    bad = sorted({n.op_type for n in gr.nodes} - allowed)
    if bad:
        raise ModelFileError(f"unrecognised {what} graph: it uses {', '.join(bad)}, which the "
                             "native architecture does not compute")
    if any(n.domain not in ("", "ai.onnx") for n in gr.nodes):
        raise ModelFileError(f"unrecognised {what} graph: it uses custom-domain operators")


def _check_io(gr: _Graph, inputs: Mapping[str, List[int]], outputs: Mapping[str, List[int]],
              what: str) -> None:
    for kind, have, want in (("inputs", gr.inputs, inputs), ("outputs", gr.outputs, outputs)):
        names = [v.name for v in have]
        if names != list(want):
            raise ModelFileError(f"the {what} graph's {kind} are {names}; expected "
                                 f"{list(want)}")
        for v in have:
            if gr.io_shape(v) != list(want[v.name]):
                raise ModelFileError(f"graph {kind[:-1]} {v.name!r} has shape "
                                     f"{gr.io_shape(v)}; expected {list(want[v.name])}")


def _prefix(gr: _Graph, suffix: str, what: str) -> str:
    """The module prefix of the exported weights ("decoder.", "model.", ...), found as the
    one weight name ending in ``suffix``."""
    cands = sorted({n[: -len(suffix)] for n in gr.weights
                    if n.endswith(suffix) and (n == suffix or n[-len(suffix) - 1] == ".")})
    if len(cands) != 1:
        raise ModelFileError(f"unrecognised {what} graph: expected one weight named "
                             f"'...{suffix}', found {len(cands)}")
    return cands[0]


def _take(gr: _Graph, name: str, shape: Iterable[int]) -> np.ndarray:
    if name not in gr.weights:
        raise ModelFileError(f"the graph has no float weight named {name!r}")
    v = gr.weights[name]
    if list(v.shape) != list(shape):
        raise ModelFileError(f"weight {name!r} has shape {list(v.shape)}; expected "
                             f"{list(shape)}")
    return v


def _int(meta: Mapping[str, Any], key: str) -> int:
    v = meta.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise ModelFileError(f"metadata {key!r} is {v!r}; expected a positive integer")
    return v


def _check_leftovers(gr: _Graph, used: Iterable[str], what: str) -> None:
    left = sorted(gr.used_weights - set(used))
    if left:
        raise ModelFileError(f"unrecognised {what} graph: it holds weights the native "
                             f"architecture has no place for: {', '.join(left[:8])}"
                             + (" ..." if len(left) > 8 else ""))


def _convert_clip_decoder(gr: _Graph, meta: Mapping[str, Any]
                          ) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    what = f"{meta['model_family']} (clip decoder)"
    _check_ops(gr, ("Concat", "Gemm", "LeakyRelu", "Reshape", "Conv", "Unsqueeze", "Add",
                    "ConstantOfShape", "Mul", "Equal", "Where", "Expand", "Slice", "Sigmoid",
                    "Max", "Min", "Gather"), what)
    z_dim, frames, n_mels = _int(meta, "z_dim"), _int(meta, "max_frames"), _int(meta, "n_mels")
    ins = {v.name: gr.io_shape(v) for v in gr.inputs}
    c_shape = ins.get("controls")
    if not c_shape or len(c_shape) != 2 or not isinstance(c_shape[1], int):
        raise ModelFileError(f"the {what} graph has no 'controls' input of shape [1, C]")
    c_dim = c_shape[1]
    _check_io(gr, {"z": [1, z_dim], "controls": [1, c_dim]},
              {"log_mel": [1, n_mels, frames], "alive_logits": [1, frames]}, what)
    p = _prefix(gr, "fc.weight", what)

    def consumer(name: str, op: str) -> Any:
        users = [n for n in gr.consumers.get(name, []) if n.op_type == op]
        if len(users) != 1:
            raise ModelFileError(f"weight {name!r} is not used by exactly one {op} node")
        return users[0]

    def check_gemm(n, a: str, w: str, b: str) -> None:
        at = gr.attrs(n)
        if list(n.input) != [a, w, b] or at.get("transB", 0) != 1 or at.get("transA", 0) != 0 \
                or at.get("alpha", 1.0) != 1.0 or at.get("beta", 1.0) != 1.0:
            raise ModelFileError(f"Gemm node {n.name!r} is not the linear layer {w[:-7]!r} "
                                 "the clip decoder needs (input, weight, bias, transB=1)")

    fcw = gr.weights.get(p + "fc.weight")
    cw0 = gr.weights.get(p + "convs.0.weight")
    if cw0 is None or cw0.ndim != 3:
        raise ModelFileError(f"the graph has no 3-D weight {p + 'convs.0.weight'!r}")
    channels, kernel = int(cw0.shape[0]), int(cw0.shape[2])
    if kernel % 2 == 0:
        raise ModelFileError(f"convs.0 has an even kernel ({kernel}); the native decoder "
                             "needs odd kernels (same padding)")
    if fcw.ndim != 2 or fcw.shape[0] % channels:
        raise ModelFileError(f"weight {p + 'fc.weight'!r} has shape {list(fcw.shape)}, not "
                             f"[channels * base_frames, z_dim + c_dim] with {channels} channels")
    base = fcw.shape[0] // channels
    stages = 0
    while base << stages < frames:
        stages += 1
    if base << stages != frames:
        raise ModelFileError(f"frames ({frames}) is not base_frames ({base}) times a power of "
                             "two")
    C, K = channels, kernel
    t: Dict[str, np.ndarray] = {}
    t["fc.weight"] = _take(gr, p + "fc.weight", [C * base, z_dim + c_dim])
    t["fc.bias"] = _take(gr, p + "fc.bias", [C * base])
    fc = consumer(p + "fc.weight", "Gemm")
    cat = gr.producer.get(fc.input[0])
    if cat is None or cat.op_type != "Concat" or list(cat.input) != ["z", "controls"]:
        raise ModelFileError("the fc layer does not read concat(z, controls)")
    check_gemm(fc, fc.input[0], p + "fc.weight", p + "fc.bias")
    for i in range(stages + 1):
        for kind, shape in (("convs", [C, C, K]), ("cond", [C, c_dim])):
            t[f"{kind}.{i}.weight"] = _take(gr, f"{p}{kind}.{i}.weight", shape)
            t[f"{kind}.{i}.bias"] = _take(gr, f"{p}{kind}.{i}.bias", [C])
        conv = consumer(f"{p}convs.{i}.weight", "Conv")
        at = gr.attrs(conv)
        if list(conv.input[1:]) != [f"{p}convs.{i}.weight", f"{p}convs.{i}.bias"] or \
                list(at.get("kernel_shape", [K])) != [K] or \
                list(at.get("pads", [0, 0])) != [K // 2, K // 2] or \
                list(at.get("strides", [1])) != [1] or \
                list(at.get("dilations", [1])) != [1] or at.get("group", 1) != 1:
            raise ModelFileError(f"Conv node {conv.name!r} is not a stride-1 'same' "
                                 f"convolution with kernel {K}")
        check_gemm(consumer(f"{p}cond.{i}.weight", "Gemm"), "controls",
                   f"{p}cond.{i}.weight", f"{p}cond.{i}.bias")
    if gr.weights.get(f"{p}convs.{stages + 1}.weight") is not None:
        raise ModelFileError(f"the graph has more convolution stages than frames ({frames}) / "
                             f"base_frames ({base}) allow")
    t["out.weight"] = _take(gr, p + "out.weight", [n_mels + 1, C, 3])
    t["out.bias"] = _take(gr, p + "out.bias", [n_mels + 1])
    out = consumer(p + "out.weight", "Conv")
    at = gr.attrs(out)
    if list(at.get("pads", [0, 0])) != [1, 1] or list(at.get("strides", [1])) != [1] or \
            list(out.input[1:]) != [p + "out.weight", p + "out.bias"]:
        raise ModelFileError(f"Conv node {out.name!r} is not the kernel-3 output convolution")
    t["stats.lo"] = _take(gr, p + "stats.lo", [])
    t["stats.hi"] = _take(gr, p + "stats.hi", [])
    lo, hi = float(t["stats.lo"]), float(t["stats.hi"])
    if not hi > lo:
        raise ModelFileError(f"stats.hi ({hi}) does not exceed stats.lo ({lo})")

    slopes = {float(gr.attrs(n).get("alpha", 0.01)) for n in gr.by_op("LeakyRelu")}
    if len(gr.by_op("LeakyRelu")) != stages + 2 or len(slopes) != 1:
        raise ModelFileError(f"expected {stages + 2} LeakyRelu nodes with one slope; found "
                             f"{len(gr.by_op('LeakyRelu'))} with slopes {sorted(slopes)}")
    for op, n_want in (("Conv", stages + 2), ("Gemm", stages + 2), ("Expand", stages),
                       ("Sigmoid", 1)):
        if len(gr.by_op(op)) != n_want:
            raise ModelFileError(f"expected {n_want} {op} nodes in a {stages}-stage clip "
                                 f"decoder; found {len(gr.by_op(op))}")

    # bounded(): lo - 0.05 span + 1.1 span sigmoid(raw), clamped to [lo, hi]; torch folds
    # the two constants, so check them against the stats the .fkm carries.
    sig = gr.by_op("Sigmoid")[0]
    mul = [n for n in gr.consumers.get(sig.output[0], []) if n.op_type == "Mul"]
    add = [n for n in gr.consumers.get(mul[0].output[0], []) if n.op_type == "Add"] if mul else []
    if len(mul) != 1 or len(add) != 1:
        raise ModelFileError("the log-mel output is not bounded as FeatureStats.bounded does")
    m_in = [i for i in mul[0].input if i != sig.output[0]]
    a_in = [i for i in add[0].input if i != mul[0].output[0]]
    span = np.float32(hi) - np.float32(lo)
    folded = []
    for names, want, label in ((m_in, np.float32(1.1) * span, "1.1 * span"),
                               (a_in, np.float32(lo) - np.float32(0.05) * span,
                                "lo - 0.05 * span")):
        if len(names) != 1:
            raise ModelFileError("the log-mel output is not bounded as FeatureStats.bounded "
                                 "does")
        got = gr.scalar(names[0], f"the bound constant {label}")
        if abs(got - float(want)) > 1e-5 * max(1.0, abs(float(want))):
            raise ModelFileError(f"the graph's bound constant {label} is {got}, but the stats "
                                 f"give {float(want)}")
        folded.append(names[0])
    mx = gr.consumers.get(add[0].output[0], [])
    mn = gr.consumers.get(mx[0].output[0], []) if len(mx) == 1 else []
    if len(mx) != 1 or mx[0].op_type != "Max" or p + "stats.lo" not in mx[0].input or \
            len(mn) != 1 or mn[0].op_type != "Min" or p + "stats.hi" not in mn[0].input or \
            list(mn[0].output) != ["log_mel"]:
        raise ModelFileError("log_mel is not clamped to [stats.lo, stats.hi]")
    gat = gr.producer.get("alive_logits")
    if gat is None or gat.op_type != "Gather" or gat.input[0] != out.output[0] or \
            int(np.asarray(gr.values.get(gat.input[1], -1)).reshape(-1)[0]) != n_mels or \
            gr.attrs(gat).get("axis", 0) != 1:
        raise ModelFileError(f"alive_logits is not channel {n_mels} of the output convolution")
    _check_leftovers(gr, [p + k for k in t] + folded, what)
    arch = {"kind": "clip_decoder", "z_dim": z_dim, "c_dim": c_dim, "n_mels": n_mels,
            "frames": frames, "channels": channels, "base_frames": base, "kernel": kernel,
            "leaky_slope": _f32(slopes.pop())}
    return arch, t


def _module_from_node_name(name: str) -> Optional[str]:
    """"/model/blocks.0/mlp/mlp.0/MatMul" -> "blocks.0.mlp.0" (torch's scope path, without
    the root module and the op); None when the node name carries no path."""
    parts = [s for s in name.split("/") if s]
    if len(parts) < 3:
        return None
    out: List[str] = []
    for s in parts[1:-1]:
        if out and s.startswith(out[-1] + "."):  # nested scopes repeat their parent's name
            out[-1] = s
        else:
            out.append(s)
    return ".".join(out)


def _convert_causal_transformer(gr: _Graph, meta: Mapping[str, Any]
                                ) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    what = "transformer"
    _check_ops(gr, ("Slice", "Unsqueeze", "Concat", "Sub", "Div", "MatMul", "Add", "Gemm",
                    "ReduceMean", "Pow", "Sqrt", "Mul", "Reshape", "Transpose", "Split",
                    "Squeeze", "Softmax", "Erf", "Shape", "Gather", "Clip", "Exp", "Max", "Min"),
               what)
    # rows: the frames of state the step takes (the attention window for the absolute form,
    # the newest row's receptive field for the relative one)
    n_mels, rows = _int(meta, "n_mels"), _int(meta, "window_frames")
    positional = meta.get("positional", "absolute")
    if positional not in ("absolute", "relative"):
        raise ModelFileError(f"metadata 'positional' is {positional!r}; expected 'absolute' "
                             "or 'relative'")
    relative = positional == "relative"
    window = _int(meta, "attention_window") if relative else rows
    ins = {v.name: gr.io_shape(v) for v in gr.inputs}
    c_shape = ins.get("controls")
    if not c_shape or len(c_shape) != 2 or not isinstance(c_shape[1], int):
        raise ModelFileError("the transformer graph has no 'controls' input of shape [1, C]")
    c_dim = c_shape[1]
    _check_io(gr, {"frame": [1, n_mels], "controls": [1, c_dim], "noise": [1, n_mels],
                   "state": [1, rows, n_mels]},
              {"next_frame": [1, n_mels], "next_state": [1, rows, n_mels]}, what)
    p = _prefix(gr, "stats.level_lo", what)

    # Linear layers: a MatMul by a constant [in, out] (or a Gemm) whose bias is a named
    # weight "<prefix><module>.bias"; the node's scope path must agree where it has one.
    linear: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
    used: List[str] = []
    for n in gr.nodes:
        if n.op_type not in ("MatMul", "Gemm") or n.input[1] not in gr.weights:
            if n.op_type in ("MatMul", "Gemm") and n.input[0] in gr.weights:
                raise ModelFileError(f"{n.op_type} node {n.name!r} has its weight first")
            continue
        w = gr.weights[n.input[1]]
        if n.op_type == "Gemm":
            at = gr.attrs(n)
            if len(n.input) < 3 or at.get("alpha", 1.0) != 1.0 or at.get("beta", 1.0) != 1.0 \
                    or at.get("transA", 0) != 0:
                raise ModelFileError(f"Gemm node {n.name!r} is not a plain linear layer")
            bias = n.input[2]
            w = w if at.get("transB", 0) == 1 else w.T
        else:
            adds = gr.consumers.get(n.output[0], [])
            if len(adds) != 1 or adds[0].op_type != "Add":
                raise ModelFileError(f"MatMul node {n.name!r} is not followed by its bias")
            others = [i for i in adds[0].input if i != n.output[0]]
            bias = others[0] if len(others) == 1 else ""
            w = w.T  # ONNX MatMul holds x @ W with W [in, out]; torch keeps [out, in]
        if bias not in gr.weights or not bias.startswith(p) or not bias.endswith(".bias"):
            raise ModelFileError(f"{n.op_type} node {n.name!r} has no named bias "
                                 f"'{p}<module>.bias' (got {bias!r})")
        module = bias[len(p):-len(".bias")]
        scoped = _module_from_node_name(n.name)
        if scoped is not None and scoped != module:
            raise ModelFileError(f"{n.op_type} node {n.name!r} belongs to {scoped!r} but adds "
                                 f"the bias of {module!r}")
        if module in linear:
            raise ModelFileError(f"linear layer {module!r} appears twice in the graph")
        b = gr.weights[bias]
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise ModelFileError(f"linear layer {module!r} has weight {list(w.shape)} and bias "
                                 f"{list(b.shape)}")
        linear[module] = (np.ascontiguousarray(w, np.float32), b)
        used += [n.input[1], bias]

    def lin(module: str, out: int, inp: int) -> Tuple[np.ndarray, np.ndarray]:
        if module not in linear:
            raise ModelFileError(f"the transformer graph has no linear layer {module!r}")
        w, b = linear[module]
        if list(w.shape) != [out, inp]:
            raise ModelFileError(f"linear layer {module!r} has weight shape {list(w.shape)} "
                                 f"(torch layout); expected [{out}, {inp}]")
        return w, b

    if "inp" not in linear:
        raise ModelFileError("the transformer graph has no linear layer 'inp'")
    d = linear["inp"][0].shape[0]
    layers = 0
    while f"blocks.{layers}.qkv" in linear:
        layers += 1
    if layers == 0:
        raise ModelFileError("the transformer graph has no blocks (no 'blocks.0.qkv' layer)")
    if "blocks.0.mlp.0" not in linear:
        raise ModelFileError("the transformer graph has no linear layer 'blocks.0.mlp.0'")
    ff = linear["blocks.0.mlp.0"][0].shape[0]
    t: Dict[str, np.ndarray] = {}
    t["inp.weight"], t["inp.bias"] = lin("inp", d, n_mels)
    t["ctrl.weight"], t["ctrl.bias"] = lin("ctrl", d, c_dim)

    if relative:
        if rows != layers * (window - 1) + 1:
            raise ModelFileError(f"metadata 'window_frames' is {rows}; a relative model with "
                                 f"{layers} layers and attention window {window} takes "
                                 f"{layers * (window - 1) + 1} frames of state")
    else:
        # The positional embedding: torch folds pos[:window] into one constant [window, d]
        # added to the embedded frames. Found by the Add that reads it, whatever its name.
        pos_adds = [(n, i) for n in gr.by_op("Add") for i in n.input
                    if i in gr.weights and list(gr.weights[i].shape) == [window, d]]
        if len(pos_adds) != 1:
            raise ModelFileError(f"expected one Add of a [{window}, {d}] positional embedding; "
                                 f"found {len(pos_adds)}")
        pos_add, pos_name = pos_adds[0]
        scoped = _module_from_node_name(pos_add.name)
        if scoped not in (None, ""):
            raise ModelFileError(f"the positional embedding is added in {scoped!r}, not at the "
                                 "top of the model")
        t["pos"] = gr.weights[pos_name]
        used.append(pos_name)

    def named(key: str, shape: List[int]) -> np.ndarray:
        used.append(p + key)
        return _take(gr, p + key, shape)

    for i in range(layers):
        b = f"blocks.{i}."
        for ln in ("ln1", "ln2"):
            t[b + ln + ".weight"] = named(b + ln + ".weight", [d])
            t[b + ln + ".bias"] = named(b + ln + ".bias", [d])
        t[b + "qkv.weight"], t[b + "qkv.bias"] = lin(b + "qkv", 3 * d, d)
        t[b + "proj.weight"], t[b + "proj.bias"] = lin(b + "proj", d, d)
        t[b + "mlp.0.weight"], t[b + "mlp.0.bias"] = lin(b + "mlp.0", ff, d)
        t[b + "mlp.2.weight"], t[b + "mlp.2.bias"] = lin(b + "mlp.2", d, ff)
    t["ln.weight"], t["ln.bias"] = named("ln.weight", [d]), named("ln.bias", [d])
    t["head.weight"], t["head.bias"] = lin("head", 2 * n_mels, d)
    for k in ("lo", "hi", "center", "spread", "level_lo", "level_hi"):
        t["stats." + k] = named("stats." + k, [])
    s = {k: float(t["stats." + k]) for k in ("lo", "hi", "spread", "level_lo", "level_hi")}
    if not (s["hi"] > s["lo"] and s["spread"] > 0 and s["level_hi"] >= s["level_lo"]):
        raise ModelFileError(f"the stats are inconsistent: {s}")
    extra = sorted(set(linear) - {k[: -len(".weight")] for k in t if k.endswith(".weight")})
    if extra:
        raise ModelFileError(f"the transformer graph has linear layers the native "
                             f"architecture has no place for: {', '.join(extra)}")

    # heads: the 5-D reshape [1, T, 3, heads, head_dim] of every block's qkv output
    shapes = [gr.values.get(n.input[1]) for n in gr.by_op("Reshape")]
    five = [tuple(int(x) for x in v.reshape(-1)) for v in shapes
            if v is not None and v.ndim == 1 and v.size == 5]
    if len(five) != layers or len(set(five)) != 1:
        raise ModelFileError(f"expected {layers} qkv reshapes to [1, T, 3, heads, head_dim], "
                             f"one per block; found {five}")
    _, t_len, three, heads, hd = five[0]
    if three != 3 or t_len != rows or heads <= 0 or heads * hd != d:
        raise ModelFileError(f"the qkv reshape {list(five[0])} does not split d_model {d} "
                             f"into heads over {rows} rows")
    # the attention scale 1/sqrt(head_dim) confirms the split
    scales = []
    for n in gr.by_op("Softmax"):
        a = gr.producer.get(n.input[0])
        m = gr.producer.get(a.input[0]) if a is not None and a.op_type == "Add" else None
        if relative and m is not None and m.op_type == "Add":
            # softmax(q k^T * scale + rel_bias[:, distance] + band mask)
            _relative_bias(gr, n, a, m, heads, window, rows, t, used)
            m = gr.producer.get(m.input[0])
        if m is None or m.op_type != "Mul":
            raise ModelFileError(f"Softmax node {n.name!r} is not scaled causal attention")
        scales += [float(gr.values[i].reshape(-1)[0]) for i in m.input
                   if i in gr.values and gr.values[i].size == 1]
    if len(scales) != layers or any(abs(x * math.sqrt(hd) - 1) > 1e-5 for x in scales):
        raise ModelFileError(f"the attention scales {scales} are not 1/sqrt(head_dim = {hd})")
    if relative:
        missing = [i for i in range(layers) if f"blocks.{i}.rel_bias" not in t]
        if missing:
            raise ModelFileError(f"the relative transformer graph has no distance bias in "
                                 f"block(s) {missing}")

    # LayerNorm epsilon: Sqrt(ReduceMean(...) + eps) in each of the 2 * layers + 1 norms
    eps = []
    for n in gr.by_op("Sqrt"):
        a = gr.producer.get(n.input[0])
        if a is None or a.op_type != "Add":
            raise ModelFileError(f"Sqrt node {n.name!r} is not a LayerNorm's sqrt(var + eps)")
        eps += [float(gr.values[i].reshape(-1)[0]) for i in a.input
                if i in gr.values and gr.values[i].size == 1]
    if len(eps) != 2 * layers + 1 or len(set(eps)) != 1 or not eps[0] > 0:
        raise ModelFileError(f"expected {2 * layers + 1} LayerNorms with one epsilon; found "
                             f"epsilons {eps}")
    if len(gr.by_op("Erf")) != layers:
        raise ModelFileError(f"expected {layers} exact (erf) GELUs; found "
                             f"{len(gr.by_op('Erf'))} Erf nodes")
    clips = gr.by_op("Clip")
    if len(clips) != 1 or len(clips[0].input) != 3:
        raise ModelFileError(f"expected one Clip of log_std with constant bounds; found "
                             f"{len(clips)} Clip nodes")
    ls_min = gr.scalar(clips[0].input[1], "the log_std lower bound")
    ls_max = gr.scalar(clips[0].input[2], "the log_std upper bound")
    if not (math.isfinite(ls_min) and math.isfinite(ls_max) and ls_min <= ls_max):
        raise ModelFileError(f"the log_std bounds [{ls_min}, {ls_max}] are not ordered")
    _check_leftovers(gr, used, what)
    arch = {"kind": "causal_transformer", "c_dim": c_dim, "n_mels": n_mels, "window": window,
            "d_model": d, "heads": heads, "layers": layers, "ff": ff, "ln_eps": _f32(eps[0]),
            "log_std_min": _f32(ls_min), "log_std_max": _f32(ls_max)}
    if relative:  # the absolute form's header stays as it always was
        arch["positional"] = "relative"
    return arch, t


def _relative_bias(gr: _Graph, softmax, mask_add, bias_add, heads: int, window: int, rows: int,
                   t: Dict[str, np.ndarray], used: List[str]) -> None:
    """One block of the relative form: ``Softmax(Add(Add(scores, Gather(rel_bias, distance,
    axis=1)), band_mask))``. Checks the distance index and the mask are exactly the ones the
    native runtime assumes and stores ``blocks.<i>.rel_bias`` (heads, window)."""
    block = _module_from_node_name(softmax.name)
    if block is None or not block.startswith("blocks.") or not block[7:].isdigit():
        raise ModelFileError(f"Softmax node {softmax.name!r} does not belong to a block")
    key = block + ".rel_bias"
    if key in t:
        raise ModelFileError(f"block {block!r} has two attentions")
    rel = np.arange(rows)[:, None] - np.arange(rows)[None, :]
    band = (rel >= 0) & (rel < window)
    masks = [i for i in mask_add.input if i != bias_add.output[0]]
    mask = gr.values.get(masks[0]) if len(masks) == 1 else None
    if mask is None or mask.shape != (rows, rows) or masks[0] in gr.weights or \
            not np.array_equal(mask, np.where(band, 0.0, -np.inf).astype(mask.dtype)):
        raise ModelFileError(f"the attention of {block!r} is not masked to a causal band of "
                             f"{window} rows")
    gathers = [gr.producer.get(i) for i in bias_add.input[1:]]
    g = gathers[0] if len(gathers) == 1 else None
    if g is None or g.op_type != "Gather" or gr.attrs(g).get("axis", 0) != 1:
        raise ModelFileError(f"the attention of {block!r} adds no Gather of a distance bias")
    idx = gr.values.get(g.input[1])
    if idx is None or idx.shape != (rows, rows) or \
            not np.array_equal(idx, np.clip(rel, 0, window - 1)):
        raise ModelFileError(f"the distance bias of {block!r} is not indexed by the "
                             f"distance between rows (clamped to [0, {window - 1}])")
    w = gr.weights.get(g.input[0])
    if w is None or list(w.shape) != [heads, window]:
        raise ModelFileError(f"the distance bias of {block!r} is not a [{heads}, {window}] "
                             f"weight (got {None if w is None else list(w.shape)})")
    t[key] = w
    used.append(g.input[0])


def _tensor_order(arch: Mapping[str, Any]) -> List[str]:
    """The tensor names of an architecture, in format.hpp's order."""
    if arch["kind"] == "clip_decoder":
        stages = 0
        while arch["base_frames"] << stages < arch["frames"]:
            stages += 1
        names = ["fc.weight", "fc.bias"]
        for i in range(stages + 1):
            names += [f"convs.{i}.weight", f"convs.{i}.bias"]
        for i in range(stages + 1):
            names += [f"cond.{i}.weight", f"cond.{i}.bias"]
        return names + ["out.weight", "out.bias", "stats.lo", "stats.hi"]
    relative = arch.get("positional", "absolute") == "relative"
    names = ["inp.weight", "inp.bias", "ctrl.weight", "ctrl.bias"] + ([] if relative else ["pos"])
    for i in range(arch["layers"]):
        b = f"blocks.{i}."
        names += [b + k for k in ("ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias",
                                  "qkv.weight", "qkv.bias", "proj.weight", "proj.bias",
                                  "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias")]
        if relative:
            names.append(b + "rel_bias")
    return names + ["ln.weight", "ln.bias", "head.weight", "head.bias"] + \
        ["stats." + k for k in ("lo", "hi", "center", "spread", "level_lo", "level_hi")]


def convert_model(proto, meta: Mapping[str, Any]
                  ) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """An exported ONNX ``proto`` and its metadata -> ``(architecture, tensors)``: the
    architecture dict of the .fkm header and float32 tensors by .fkm name, in file order."""
    family = meta.get("model_family")
    gr = _Graph(proto)
    if family in ("vae", "gan"):
        arch, t = _convert_clip_decoder(gr, meta)
    elif family == "transformer":
        arch, t = _convert_causal_transformer(gr, meta)
    else:
        raise ModelFileError(f"model family {family!r} has no native architecture (known: "
                             "vae, gan, transformer)")
    out = {}
    for name in _tensor_order(arch):
        v = np.array(t[name], dtype=np.float32, order="C")  # (ascontiguousarray makes 0-d 1-d)
        if not np.all(np.isfinite(v)):
            raise ModelFileError(f"tensor {name!r} holds NaN or Inf")
        out[name] = v
    return arch, out


# -- the file ----------------------------------------------------------------------------------

def _pack(header: Dict[str, Any], tensors: Mapping[str, np.ndarray]) -> bytes:
    table, offset = [], 0
    for name, v in tensors.items():
        offset = _round_up(offset)
        table.append({"name": name, "dtype": "float32", "shape": [int(s) for s in v.shape],
                      "offset": offset})
        offset += 4 * v.size
    data_bytes = offset
    head = dict(header, tensors=table)
    js = json.dumps(head, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    if len(js) > MAX_JSON_BYTES or len(table) > MAX_TENSORS:
        raise ModelFileError(f"the native header is too large ({len(js)} bytes, "
                             f"{len(table)} tensors)")
    data_start = _round_up(HEADER_BYTES + len(js))
    total = data_start + data_bytes
    if total > MAX_FILE_BYTES:
        raise ModelFileError(f"the native model would be {total} bytes; the limit is "
                             f"{MAX_FILE_BYTES}")
    buf = bytearray(total)
    buf[HEADER_BYTES:HEADER_BYTES + len(js)] = js
    for entry, v in zip(table, tensors.values()):
        o = data_start + entry["offset"]
        buf[o:o + 4 * v.size] = np.ascontiguousarray(v, "<f4").tobytes()
    struct.pack_into("<8sIIQ", buf, 0, MAGIC, VERSION, len(js), data_bytes)
    struct.pack_into("<Q", buf, 24, fnv1a64(memoryview(buf)[HEADER_BYTES:]))
    return bytes(buf)


def write_native(onnx_path: PathLike, out: Optional[PathLike] = None) -> Path:
    """Converts the exported ``onnx_path`` to a native model file ``out`` (default: the same
    path with suffix ``.fkm``), written atomically; returns its path.

    Raises :class:`ModelFileError` for a damaged or non-FoleyKit ONNX file, an unknown
    family, or a graph that is not one of the architectures the native runtime computes.
    """
    import onnx

    from .metadata import content_hash, load_metadata

    onnx_path = Path(onnx_path)
    meta = load_metadata(onnx_path)  # refuses missing, corrupt and foreign files
    try:
        proto = onnx.load_model_from_string(onnx_path.read_bytes())
    except Exception as e:
        raise ModelFileError(f"{str(onnx_path)!r} is not a readable ONNX model: {e}") from None
    if content_hash(proto) != meta["content_hash"]:  # changed since load_metadata read it
        raise ModelFileError(f"{str(onnx_path)!r} changed while being converted")
    try:
        arch, tensors = convert_model(proto, meta)
    except ModelFileError as e:
        raise ModelFileError(f"{str(onnx_path)!r}: {e}") from None
    header = {"format": FORMAT, "version": VERSION, "onnx_content_hash": meta["content_hash"],
              "meta": {k: v for k, v in meta.items() if k != "content_hash"},
              "architecture": arch}
    data = _pack(header, tensors)
    out = Path(out) if out is not None else onnx_path.with_suffix(".fkm")
    if out.resolve() == onnx_path.resolve():
        raise ModelFileError(f"{str(out)!r} is the ONNX file itself; choose another output")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def read_native(path: PathLike) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """``(header, tensors)`` of a .fkm file, checked as strictly as the native loader checks
    it: magic, version, sizes, checksum, zero padding, the JSON header and the tensor table
    (names, float32, shapes, 64-byte aligned non-overlapping ranges, finite values).
    ``header["tensors"]`` keeps the table; ``tensors`` maps names to float32 arrays."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"native model file {str(path)!r} does not exist")
    data = path.read_bytes()
    where = repr(str(path))

    def bad(msg: str) -> ModelFileError:
        return ModelFileError(f"{where} is not a valid native model: {msg}")

    if len(data) < HEADER_BYTES:
        raise bad(f"truncated ({len(data)} bytes, shorter than the header)")
    magic, version, json_bytes, data_bytes, checksum = struct.unpack_from("<8sIIQQ", data, 0)
    if magic != MAGIC:
        raise bad("bad magic (not a FoleyKit .fkm file)")
    if version != VERSION:
        raise bad(f"format version {version}; this FoleyKit reads version {VERSION}")
    if not 2 <= json_bytes <= MAX_JSON_BYTES:
        raise bad(f"JSON header length {json_bytes} is outside [2, {MAX_JSON_BYTES}]")
    data_start = _round_up(HEADER_BYTES + json_bytes)
    total = data_start + data_bytes
    if total > MAX_FILE_BYTES:
        raise bad(f"{total} bytes exceeds the limit of {MAX_FILE_BYTES}")
    if len(data) < total:
        raise bad(f"truncated ({len(data)} bytes, the header says {total})")
    if len(data) > total:
        raise bad(f"{len(data) - total} trailing bytes")
    h = fnv1a64(memoryview(data)[HEADER_BYTES:])
    if h != checksum:
        raise bad(f"checksum mismatch (header {checksum:016x}, content {h:016x}): corrupt")
    if any(data[HEADER_BYTES + json_bytes:data_start]):
        raise bad("nonzero padding after the JSON header")
    try:
        header = json.loads(data[HEADER_BYTES:HEADER_BYTES + json_bytes].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"corrupt JSON header: {e}") from None
    if not isinstance(header, dict):
        raise bad("the JSON header is not an object")
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise bad(f"header format/version is {header.get('format')!r}/"
                  f"{header.get('version')!r}")
    for k in ("meta", "architecture"):
        if not isinstance(header.get(k), dict):
            raise bad(f"header {k!r} is missing or not an object")
    table = header.get("tensors")
    if not isinstance(table, list) or len(table) > MAX_TENSORS:
        raise bad("header 'tensors' is missing, not a list or too long")
    tensors: Dict[str, np.ndarray] = {}
    ranges = []
    for k, e in enumerate(table):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not e["name"] or \
                len(e["name"].encode()) > MAX_NAME_BYTES:
            raise bad(f"tensors[{k}] has no valid name")
        name = e["name"]
        if name in tensors:
            raise bad(f"duplicate tensor {name!r}")
        if e.get("dtype") != "float32":
            raise bad(f"tensor {name!r} has dtype {e.get('dtype')!r}, not float32")
        shape, off = e.get("shape"), e.get("offset")
        if not isinstance(shape, list) or len(shape) > MAX_RANK or not all(
                isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2 ** 31
                for s in shape):
            raise bad(f"tensor {name!r} has an invalid shape {shape!r}")
        if not isinstance(off, int) or isinstance(off, bool) or off < 0 or off % ALIGN:
            raise bad(f"tensor {name!r} has an invalid or unaligned offset {off!r}")
        nbytes = 4 * math.prod(shape)
        if off + nbytes > data_bytes:
            raise bad(f"tensor {name!r} runs past the end of the data section")
        if nbytes:
            ranges.append((off, off + nbytes, name))
        v = np.frombuffer(data, "<f4", nbytes // 4, data_start + off)
        if not np.all(np.isfinite(v)):
            raise bad(f"tensor {name!r} holds NaN or Inf")
        tensors[name] = v.astype(np.float32).reshape(shape)
    ranges.sort()
    for (_, end, a), (start, _, b) in zip(ranges, ranges[1:]):
        if start < end:
            raise bad(f"tensors {a!r} and {b!r} overlap")
    return header, tensors


# -- the numpy reference -----------------------------------------------------------------------

def _conv1d_same(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x (C_in, T), w (C_out, C_in, K) -> (C_out, T), zero 'same' padding (K odd)."""
    k = w.shape[2]
    t = x.shape[1]
    xp = np.pad(x, ((0, 0), (k // 2, k // 2)))
    out = np.empty((w.shape[0], t), x.dtype)
    out[:] = b[:, None]
    for j in range(k):
        out += w[:, :, j] @ xp[:, j:j + t]
    return out


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _clip_decoder(arch, t, z, controls):
    slope = arch["leaky_slope"]

    def leaky(x):
        return np.where(x >= 0, x, slope * x)

    c = controls[0]
    h = leaky(t["fc.weight"] @ np.concatenate([z[0], c]) + t["fc.bias"])
    h = h.reshape(arch["channels"], arch["base_frames"])
    i = 0
    while f"convs.{i}.weight" in t:
        if i > 0:
            h = np.repeat(h, 2, axis=1)  # nearest-neighbour doubling
        cond = t[f"cond.{i}.weight"] @ c + t[f"cond.{i}.bias"]
        h = h + leaky(_conv1d_same(h, t[f"convs.{i}.weight"], t[f"convs.{i}.bias"])
                      + cond[:, None])
        i += 1
    out = _conv1d_same(h, t["out.weight"], t["out.bias"])
    lo, hi = t["stats.lo"][()], t["stats.hi"][()]
    span = hi - lo
    raw = out[: arch["n_mels"]]
    y = lo - 0.05 * span + 1.1 * span / (1.0 + np.exp(-raw))
    return np.clip(y, lo, hi)[None], out[arch["n_mels"]][None]


def _causal_transformer(arch, t, frame, controls, noise, state):
    d, heads, eps = arch["d_model"], arch["heads"], arch["ln_eps"]
    hd = d // heads
    s = {k: t["stats." + k][()] for k in ("lo", "hi", "center", "spread", "level_lo",
                                          "level_hi")}
    new_state = np.concatenate([state[:, 1:], frame[:, None]], axis=1)
    x = (new_state[0] - s["center"]) / s["spread"]  # (T, n_mels)
    T = x.shape[0]
    relative = arch.get("positional", "absolute") == "relative"
    h = x @ t["inp.weight"].T + t["inp.bias"] \
        + (t["ctrl.weight"] @ controls[0] + t["ctrl.bias"])
    if relative:  # banded causal attention plus a per-head bias by distance
        rel = np.arange(T)[:, None] - np.arange(T)[None, :]
        mask = np.where((rel >= 0) & (rel < arch["window"]), 0.0, -np.inf)
        dist = np.clip(rel, 0, arch["window"] - 1)
    else:
        h = h + t["pos"][:T]
        mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(arch["layers"]):
        b = f"blocks.{i}."
        a = _layer_norm(h, t[b + "ln1.weight"], t[b + "ln1.bias"], eps)
        qkv = (a @ t[b + "qkv.weight"].T + t[b + "qkv.bias"]).reshape(T, 3, heads, hd)
        q, k, v = (qkv[:, j].transpose(1, 0, 2) for j in range(3))  # (heads, T, hd)
        att = q @ k.transpose(0, 2, 1) * (1.0 / math.sqrt(hd)) + mask
        if relative:
            att = att + t[b + "rel_bias"][:, dist]
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = (att @ v).transpose(1, 0, 2).reshape(T, d)
        h = h + o @ t[b + "proj.weight"].T + t[b + "proj.bias"]
        a = _layer_norm(h, t[b + "ln2.weight"], t[b + "ln2.bias"], eps)
        f = a @ t[b + "mlp.0.weight"].T + t[b + "mlp.0.bias"]
        f = 0.5 * f * (1.0 + _erf(f / math.sqrt(2.0)))
        h = h + f @ t[b + "mlp.2.weight"].T + t[b + "mlp.2.bias"]
    out = _layer_norm(h[-1], t["ln.weight"], t["ln.bias"], eps) @ t["head.weight"].T \
        + t["head.bias"]
    n = arch["n_mels"]
    mu, log_std = out[:n], np.clip(out[n:], arch["log_std_min"], arch["log_std_max"])
    y = (mu + np.exp(log_std) * noise[0]) * s["spread"] + s["center"]
    level = y.mean()
    y = y + (min(max(level, s["level_lo"]), s["level_hi"]) - level)
    y = np.minimum(np.maximum(y, s["lo"]), s["hi"])
    return y[None], new_state


def reference_forward(header: Mapping[str, Any], tensors: Mapping[str, np.ndarray],
                      dtype=np.float64, **inputs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Runs a .fkm model in plain numpy from ``(header, tensors)`` (see :func:`read_native`),
    computing in ``dtype`` and returning float32, with the exported graph's inputs by name:

    - clip_decoder: ``z (1, z_dim)``, ``controls (1, c_dim)`` ->
      ``(log_mel (1, n_mels, frames), alive_logits (1, frames))``;
    - causal_transformer: ``frame (1, n_mels)``, ``controls (1, c_dim)``, ``noise (1, n_mels)``,
      ``state (1, S, n_mels)`` -> ``(next_frame (1, n_mels), next_state)``, one step of
      ``CausalTransformer.step`` (S: ``window``, or ``layers * (window - 1) + 1`` for the
      relative positional form).
    """
    arch = header["architecture"]
    t = {k: np.asarray(v, dtype) for k, v in tensors.items()}
    if arch["kind"] == "clip_decoder":
        want = {"z": (1, arch["z_dim"]), "controls": (1, arch["c_dim"])}
        fn = _clip_decoder
    elif arch["kind"] == "causal_transformer":
        n = arch["n_mels"]
        rows = arch["window"]
        if arch.get("positional", "absolute") == "relative":
            rows = arch["layers"] * (arch["window"] - 1) + 1
        want = {"frame": (1, n), "controls": (1, arch["c_dim"]), "noise": (1, n),
                "state": (1, rows, n)}
        fn = _causal_transformer
    else:
        raise ModelFileError(f"unknown architecture kind {arch.get('kind')!r}")
    if set(inputs) != set(want):
        raise ValueError(f"{arch['kind']} takes inputs {sorted(want)}; got {sorted(inputs)}")
    args = {}
    for k, shape in want.items():
        v = np.asarray(inputs[k], dtype)
        if v.shape != shape:
            raise ValueError(f"input {k!r} has shape {v.shape}; expected {shape}")
        args[k] = v
    a, b = fn(arch, t, **args)
    return a.astype(np.float32), b.astype(np.float32)
