"""The measured cost of compacting an exported model's weights (fp16, int8): the compacted
graph against the float32 graph of the same model on ONNX Runtime, over seeds and control
settings — one-shots on their whole clip, step models over a rollout fed with their own
output (so errors that compound show)."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

__all__ = ["compaction_cost"]


def _session(proto_bytes: bytes):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    return ort.InferenceSession(proto_bytes, o, providers=["CPUExecutionProvider"])


def compaction_cost(fp32_proto, precision: str, draws: int = 8, steps: int = 64) -> Dict[str, Any]:
    """Log-mel error (natural-log units; 1.0 = 8.7 dB) of ``precision`` weights against
    ``fp32_proto`` (an onnx ModelProto with FoleyKit metadata): max, mean and 99th percentile
    of the absolute difference, and the largest per-frame level difference in dB."""
    import json

    import onnx

    from ..models.common import seed_noise
    from ..models.controls import ControlSchema
    from .onnx_export import _compress_weights

    meta = {p.key: json.loads(p.value) for p in fp32_proto.metadata_props}
    small = onnx.ModelProto()
    small.CopyFrom(fp32_proto)
    _compress_weights(small, precision)
    ref, cmp_ = _session(fp32_proto.SerializeToString()), _session(small.SerializeToString())
    schema = ControlSchema.from_dict(meta["control_schema"])
    rng = np.random.default_rng(0)
    diffs, level_db = [], []
    for k in range(draws):
        c = schema.encode({}) if k == 0 else np.clip(
            schema.encode({}) + rng.uniform(0, 1, schema.dim).astype(np.float32), 0, 1)
        c = c[None].astype(np.float32)
        if meta.get("mode") == "step":
            n_mels, window = meta["n_mels"], meta["window_frames"]
            lo = np.float32(np.log(meta["log_floor"]))
            fa = fb = np.full((1, n_mels), lo, np.float32)
            sa = sb = np.full((1, window, n_mels), lo, np.float32)
            for t in range(steps):
                noise = seed_noise(k, n_mels, stream=t)[None]
                fa, sa = ref.run(None, {"frame": fa, "controls": c, "noise": noise, "state": sa})
                fb, sb = cmp_.run(None, {"frame": fb, "controls": c, "noise": noise,
                                         "state": sb})
                diffs.append(np.abs(fa - fb).ravel())
                level_db.append(abs(float(fa.mean() - fb.mean())) * 20 / np.log(10))
        else:
            z = seed_noise(k, meta["z_dim"])[None]
            ma, _ = ref.run(None, {"z": z, "controls": c})
            mb, _ = cmp_.run(None, {"z": z, "controls": c})
            diffs.append(np.abs(ma - mb).ravel())
            level_db.append(float(np.max(np.abs(ma.mean(axis=1) - mb.mean(axis=1))))
                            * 20 / np.log(10))
    d = np.concatenate(diffs)
    return {"precision": precision, "max_abs": float(d.max()), "mean_abs": float(d.mean()),
            "p99_abs": float(np.percentile(d, 99)), "max_frame_level_db": float(max(level_db)),
            "draws": draws, "rollout_steps": steps if meta.get("mode") == "step" else None}
