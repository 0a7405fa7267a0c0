#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_model_file (native/tests/fuzz_corpus/): a few small, valid
.fkm files (format: native/src/model/format.hpp) and one bare JSON header. Standard library
only; the output is deterministic, so rerunning it changes nothing.

    python3 native/tests/make_fuzz_seeds.py [output folder]
"""
import json
import math
import os
import struct
import sys

MAGIC = b"FKMODEL\0"
VERSION = 1
ALIGN = 64


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def round_up(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


def fkm(meta: dict, architecture: dict, tensors: list, extra: dict = None) -> bytes:
    """tensors: (name, shape, values) in order; each placed at the next 64-byte boundary."""
    table, data = [], bytearray()
    for name, shape, values in tensors:
        assert len(values) == math.prod(shape)
        data.extend(b"\0" * (round_up(len(data)) - len(data)))
        table.append({"name": name, "dtype": "float32", "shape": list(shape), "offset": len(data)})
        data.extend(struct.pack("<%df" % len(values), *values))
    header = {"format": "foleykit-native", "version": 1, "onnx_content_hash": "0" * 64,
              "meta": meta, "architecture": architecture, "tensors": table}
    header.update(extra or {})
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode()
    body = text + b"\0" * (round_up(32 + len(text)) - 32 - len(text)) + bytes(data)
    return MAGIC + struct.pack("<IIQQ", VERSION, len(text), len(data), fnv1a64(body)) + body


def ramp(n: int, scale: float = 0.01) -> list:
    return [((k * 37) % 19 - 9) * scale for k in range(n)]


def seeds() -> dict:
    meta = {"foleykit_format": 1, "model_family": "vae", "sample_rate": 24000, "n_fft": 512,
            "hop": 128, "n_mels": 4, "fmin": 0.0, "fmax": None, "log_floor": 1e-5,
            "window": "hann", "center": True, "mel_scale": "slaney", "mode": "oneshot",
            "control_schema": {"controls": [
                {"name": "size", "kind": "continuous", "min": 0, "max": 1, "default": 0.5},
                {"name": "material", "kind": "categorical", "choices": ["wood", "m\u00e9tal", "\U0001F600"],
                 "default": "wood"}]}}
    clip = fkm(meta,
               {"kind": "clip_decoder", "z_dim": 2, "c_dim": 1, "n_mels": 4, "frames": 4,
                "channels": 2, "base_frames": 2, "kernel": 3, "leaky_slope": 0.2},
               [("fc.weight", (4, 3), ramp(12)), ("fc.bias", (4,), ramp(4)),
                ("convs.0.weight", (2, 2, 3), ramp(12)), ("convs.0.bias", (2,), ramp(2)),
                ("out.weight", (5, 2, 3), ramp(30)), ("out.bias", (5,), ramp(5)),
                ("stats.lo", (), [-11.5]), ("stats.hi", (), [2.25]), ("empty", (0, 3), [])])
    transformer = fkm(dict(meta, model_family="ambience", mode="stream"),
                      {"kind": "causal_transformer", "c_dim": 1, "n_mels": 2, "window": 2,
                       "d_model": 2, "heads": 1, "layers": 1, "ff": 4, "ln_eps": 1e-5,
                       "log_std_min": -7.0, "log_std_max": 2.0},
                      [("inp.weight", (2, 2), ramp(4)), ("pos", (2, 2), ramp(4)),
                       ("blocks.0.qkv.weight", (6, 2), ramp(12)), ("ln.weight", (2,), [1.0, 1.0]),
                       ("stats.center", (), [0.0])],
                      extra={"future": [1, -0.5e-3, 1e+2, True, False, None, "esc\\\"/\b\f\n\r\t"]})
    minimal = fkm({}, {"kind": "clip_decoder"}, [])
    header = json.dumps({"format": "foleykit-native", "version": 1, "meta": {"a": [1.5, "\u00e9"]},
                         "architecture": {}, "tensors": []}).encode()
    return {"clip_tiny.fkm": clip, "transformer_tiny.fkm": transformer, "minimal.fkm": minimal,
            "header.json": header}


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "fuzz_corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        path = os.path.join(out, name)
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        except FileNotFoundError:
            pass
        with open(path, "wb") as f:
            f.write(data)
        print("wrote %s (%d bytes)" % (path, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
