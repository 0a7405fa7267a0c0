"""Export a trained run to ONNX (opset 15, fixed batch 1).

One-shot families (vae, gan): ``(z (1, z_dim), controls (1, C)) -> (log_mel (1, n_mels, T),
alive_logits (1, T))``. Transformer: the streaming step ``(frame (1, n_mels), controls
(1, C), noise (1, n_mels), state (1, S, n_mels)) -> (next_frame (1, n_mels),
next_state (1, S, n_mels))``; the caller owns the state and feeds it back. ``S`` is the
metadata's ``window_frames``: the window for the absolute positional form, the newest row's
receptive field ``layers * (window - 1) + 1`` for the relative form (whose metadata adds
``"positional": "relative"`` and ``"attention_window"``).

``precision="fp16"`` stores weights as float16 and ``"int8"`` as per-channel int8
(DequantizeLinear); both keep float32 inputs, outputs and arithmetic, so every runtime that
runs the fp32 model runs them.

Next to ``model.onnx`` the export writes ``model.fkm``, the native runtime's file, derived
from the ONNX file alone (:func:`foleykit.export.native.write_native`; always float32).
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any, Dict, Union

import numpy as np
import torch
from torch import nn

from .metadata import FORMAT_VERSION, load_metadata, set_metadata

__all__ = ["export_run", "export_model", "OPSET", "PRECISIONS"]

OPSET = 15
PRECISIONS = ("fp32", "fp16", "int8")


class _OneShot(nn.Module):
    def __init__(self, decoder: nn.Module) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, z, controls):
        return self.decoder(z, controls)


class _Step(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, frame, controls, noise, state):
        return self.model.step(frame, controls, noise, state)


def example_inputs(model: nn.Module, c_dim: int) -> Dict[str, torch.Tensor]:
    """Zero-valued inputs of the exported graph, by name."""
    c = torch.zeros(1, c_dim)
    if model.family == "transformer":
        return {"frame": model.silence(), "controls": c, "noise": torch.zeros(1, model.n_mels),
                "state": model.initial_state()}
    return {"z": torch.zeros(1, model.z_dim), "controls": c}


def export_model(model: nn.Module, schema, features: Dict[str, Any], out: Union[str, Path],
                 precision: str = "fp32", native: bool = True) -> Path:
    """Writes ``model`` (eval mode) to ``out`` with its metadata; returns the path. With
    ``native`` (the default) the native model file is written beside it, ``out`` with suffix
    ``.fkm`` (see :func:`foleykit.export.native.write_native`)."""
    import onnx

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if Path(out).suffix.lower() == ".fkm":
        raise ValueError(f"{str(out)!r}: the output is the .onnx file; the native .fkm file is "
                         "written beside it")
    model = model.eval()
    step = model.family == "transformer"
    wrapper = _Step(model) if step else _OneShot(model.decoder)
    inputs = example_inputs(model, schema.dim)
    outputs = ["next_frame", "next_state"] if step else ["log_mel", "alive_logits"]
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(wrapper, tuple(inputs.values()), buf, input_names=list(inputs),
                          output_names=outputs, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)
    proto = onnx.load_model_from_string(buf.getvalue())
    if precision != "fp32":
        _compress_weights(proto, precision)
    s = model.stats.as_dict()
    meta = {"foleykit_format": FORMAT_VERSION, "model_family": model.family,
            **{k: features[k] for k in ("sample_rate", "n_fft", "hop", "n_mels", "fmin", "fmax",
                                        "log_floor")},
            "window": "hann_periodic", "center": True, "mel_scale": "slaney",
            "control_schema": schema.to_dict(), "precision": precision,
            "feature_range": [s["lo"], s["hi"]],
            "inputs": list(inputs), "outputs": outputs}
    if step:
        # window_frames: the frames of state the step takes (what a caller allocates)
        meta.update({"max_frames": None, "window_frames": model.state_frames,
                     "noise_dim": model.n_mels, "mode": "step"})
        if model.relative:  # the absolute form's metadata stays as it always was
            meta.update({"positional": "relative", "attention_window": model.window})
    else:
        meta.update({"max_frames": model.decoder.frames, "z_dim": model.z_dim,
                     "mode": "one_shot",
                     "max_seconds": model.decoder.frames * features["hop"]
                     / features["sample_rate"]})
    # full_check runs shape inference, which may add value_info: check before hashing
    onnx.checker.check_model(proto, full_check=True)
    set_metadata(proto, meta)
    onnx.checker.check_model(proto)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(proto.SerializeToString())
    tmp.replace(out)
    load_metadata(out)  # reads back what a runtime will read, hash included
    if native:
        from .metadata import ModelFileError
        from .native import write_native

        fkm = out.with_suffix(".fkm")
        try:
            write_native(out, fkm)
        except ModelFileError as e:
            fkm.unlink(missing_ok=True)  # a stale .fkm beside the new .onnx would mislead
            raise ModelFileError(f"wrote {out} but could not derive its native model file: "
                                 f"{e}") from None
    return out


def export_run(run: Union[str, Path], out: Union[str, Path], precision: str = "fp32",
               native: bool = True) -> Path:
    """Exports the checkpoint of a ``foleykit train`` run folder (or checkpoint file)."""
    from ..train.checkpoint import load_model

    model, schema, cfg, _ = load_model(run)
    return export_model(model, schema, cfg, out, precision, native)


def _compress_weights(proto, precision: str, min_size: int = 256) -> None:
    """Weight initializers -> float16 + Cast, or int8 + per-output-channel DequantizeLinear.
    Small tensors (biases, norms, scalars) stay float32: they cost nothing and matter most."""
    from onnx import TensorProto, helper, numpy_helper

    g = proto.graph
    new_nodes, keep = [], []
    for init in g.initializer:
        w = numpy_helper.to_array(init)
        if init.data_type != TensorProto.FLOAT or w.size < min_size or \
                (precision == "int8" and w.ndim < 2):
            keep.append(init)
            continue
        name = init.name
        if precision == "fp16":
            keep.append(numpy_helper.from_array(w.astype(np.float16), name + "__fp16"))
            new_nodes.append(helper.make_node("Cast", [name + "__fp16"], [name],
                                              to=TensorProto.FLOAT, name=name + "__cast"))
        else:
            flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
            scale = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
            q = np.clip(np.round(w / scale.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127)
            keep += [numpy_helper.from_array(q.astype(np.int8), name + "__q"),
                     numpy_helper.from_array(scale, name + "__scale"),
                     numpy_helper.from_array(np.zeros(w.shape[0], np.int8), name + "__zp")]
            new_nodes.append(helper.make_node("DequantizeLinear",
                                              [name + "__q", name + "__scale", name + "__zp"],
                                              [name], axis=0, name=name + "__dq"))
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = new_nodes + list(g.node)  # dequantisation first keeps the graph topologically sorted
    del g.node[:]
    g.node.extend(nodes)
