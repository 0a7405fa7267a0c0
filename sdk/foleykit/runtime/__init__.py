"""Run exported models from Python: ``foleykit.Runtime``.

Two backends render the same sounds:

- ``"native"``: FoleyKit's own runtime (``foleykit._core.NativeModel``) on the ``.fkm`` file
  that ``foleykit export`` writes next to the ``.onnx``; what Unity, Godot and C hosts run.
- ``"onnxruntime"``: the ``.onnx`` file on ONNX Runtime; the reference the native runtime is
  checked against.

``backend=None`` picks native when the model allows it (a ``.fkm`` beside the ``.onnx`` whose
``onnx_content_hash`` matches, or one converted on the fly) and ONNX Runtime otherwise. Both
synthesise through the native DSP (:func:`foleykit.dsp.synthesize`,
:class:`~foleykit.dsp.StreamingSynth`).
"""
from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional, Union

import numpy as np

from .. import _core, dsp
from ..models.common import seed_noise
from ..models.controls import ControlSchema

__all__ = ["Runtime", "AmbienceStream", "BACKENDS"]

BACKENDS = ("native", "onnxruntime")


def _fkm_header(data: bytes) -> Dict[str, Any]:
    """The JSON header of a .fkm file's bytes (the native loader checks the rest)."""
    if len(data) < 32 or data[:8] != b"FKMODEL\0":
        raise ValueError("not a FoleyKit native model file (.fkm)")
    (json_bytes,) = struct.unpack_from("<I", data, 12)
    return json.loads(data[32:32 + json_bytes].decode("utf-8"))


class Runtime:
    """One exported model (immutable, shareable). ``render`` for one-shots, ``stream`` for
    ambiences (step models).

    ``path``: the ``.onnx`` file (either backend) or the ``.fkm`` file (native only).
    ``backend``: ``None`` (native when possible), ``"native"`` or ``"onnxruntime"``.
    """

    def __init__(self, path: Union[str, Path], backend: Optional[str] = None) -> None:
        path = Path(path)
        if backend not in (None, "auto") + BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)} or None; "
                             f"got {backend!r}")
        self.path = path
        self._fkm: Optional[bytes] = None
        self._sess = None
        if path.suffix == ".fkm":
            if backend == "onnxruntime":
                raise ValueError(f"{str(path)!r} is a native model file; ONNX Runtime needs "
                                 "the .onnx file it was made from")
            if not path.is_file():
                raise ValueError(f"model file {str(path)!r} does not exist")
            self._fkm = path.read_bytes()
            self.meta = dict(_fkm_header(self._fkm)["meta"])
            self.backend = "native"
        else:
            from ..export.metadata import load_metadata

            self.meta = load_metadata(path)  # refuses damaged files
            want_native = backend in (None, "auto", "native")
            if want_native:
                try:
                    self._fkm = self._native_bytes(path, self.meta["content_hash"])
                except Exception as e:
                    if backend == "native":
                        raise
                    warnings.warn(f"native runtime unavailable for {path.name} ({e}); "
                                  "using ONNX Runtime", RuntimeWarning, stacklevel=2)
            self.backend = "native" if self._fkm is not None else "onnxruntime"
        self.schema = ControlSchema.from_dict(self.meta["control_schema"])
        if self.backend == "native":
            from .._core import NativeModel

            self._native = NativeModel.from_bytes(self._fkm)
        else:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1  # deterministic and polite next to an audio thread
            self._sess = ort.InferenceSession(str(path), opts,
                                              providers=["CPUExecutionProvider"])
        m = self.meta
        self._synth_kw = dict(sr=float(m["sample_rate"]), n_fft=m["n_fft"], hop=m["hop"],
                              n_mels=m["n_mels"], fmin=m["fmin"], fmax=m["fmax"])

    @staticmethod
    def _native_bytes(onnx_path: Path, content_hash: str) -> bytes:
        """The .fkm beside ``onnx_path`` when it was made from this very ONNX file; otherwise
        one converted now (in memory; the stale or missing file is left alone)."""
        fkm = onnx_path.with_suffix(".fkm")
        if fkm.is_file():
            data = fkm.read_bytes()
            try:
                if _fkm_header(data).get("onnx_content_hash") == content_hash:
                    return data
            except (ValueError, UnicodeDecodeError):
                pass
            warnings.warn(f"{fkm.name} was not made from this {onnx_path.name}; converting "
                          "the ONNX file again (run foleykit export --native-from to update "
                          "it)", RuntimeWarning, stacklevel=3)
        import tempfile

        from ..export.native import write_native

        with tempfile.TemporaryDirectory() as tmp:
            out = write_native(onnx_path, Path(tmp) / "model.fkm")
            return out.read_bytes()

    @property
    def family(self) -> str:
        return self.meta["model_family"]

    def _controls(self, controls: Optional[Mapping[str, Any]]) -> np.ndarray:
        return self.schema.encode(controls)[None]

    def render_mel(self, controls: Optional[Mapping[str, Any]] = None, seed: int = 0) -> np.ndarray:
        """Log-mel ``(n_mels, frames)`` of a one-shot, cut after the last frame the model
        marks as still sounding."""
        if self.meta["mode"] != "one_shot":
            raise ValueError(f"{self.family} is a streaming model; use stream()")
        if self.backend == "native":
            return np.ascontiguousarray(self._native.generate(self.schema.values(controls),
                                                              int(seed)))
        z = seed_noise(seed, self.meta["z_dim"])[None]
        mel, alive = self._sess.run(None, {"z": z, "controls": self._controls(controls)})
        on = np.nonzero(alive[0] > 0)[0]
        end = int(on[-1]) + 1 if len(on) else 1
        return np.ascontiguousarray(mel[0, :, :end])

    def render(self, controls: Optional[Mapping[str, Any]] = None, seed: int = 0,
               method: str = "pghi") -> np.ndarray:
        """A one-shot waveform (float32, mono, ``sample_rate``): same (controls, seed) ->
        same samples."""
        mel = self.render_mel(controls, seed)
        return dsp.synthesize(mel, kind="log_mel", method=method, seed=seed,
                              length=mel.shape[1] * self.meta["hop"], **self._synth_kw)

    def stream(self, controls: Optional[Mapping[str, Any]] = None, seed: int = 0,
               block_frames: int = 16, method: str = "rtpghi") -> "AmbienceStream":
        """An endless ambience: iterate for blocks of samples; ``set_controls`` between
        blocks."""
        if self.meta["mode"] != "step":
            raise ValueError(f"{self.family} is a one-shot model; use render()")
        return AmbienceStream(self, controls, seed, block_frames, method)


class AmbienceStream:
    """Frames from the step model -> linear magnitudes -> :class:`foleykit.dsp.StreamingSynth`.
    Each ``next()`` returns the samples ``block_frames`` frames complete."""

    def __init__(self, rt: Runtime, controls, seed: int, block_frames: int, method: str) -> None:
        if block_frames < 1:
            raise ValueError(f"block_frames must be >= 1, got {block_frames}")
        m = rt.meta
        self._rt, self._seed, self._block = rt, int(seed), int(block_frames)
        self._k = 0
        if rt.backend == "native":
            from .._core import NativeModel

            self._native = NativeModel.from_bytes(rt._fkm)  # a stream of its own
            self._native.stream_reset(rt.schema.values(controls), self._seed)
        else:
            self._c = rt._controls(controls)
            lo = float(np.log(m["log_floor"]))
            self._frame = np.full((1, m["n_mels"]), lo, np.float32)
            self._state = np.full((1, m["window_frames"], m["n_mels"]), lo, np.float32)
        self._fb = dsp.mel_filterbank(float(m["sample_rate"]), m["n_fft"], m["n_mels"],
                                      m["fmin"], m["fmax"])
        self._synth = dsp.StreamingSynth(m["n_fft"], m["hop"], method, seed)

    def set_controls(self, controls: Optional[Mapping[str, Any]]) -> None:
        """New controls from the next frame on (validated now: ValueError names the control)."""
        if self._rt.backend == "native":
            self._native.stream_set_controls(self._rt.schema.values(controls))
        else:
            self._c = self._rt._controls(controls)

    def frames(self, n: int) -> np.ndarray:
        """The next ``n`` log-mel frames ``(n_mels, n)``."""
        if self._rt.backend == "native":
            self._k += n
            return np.ascontiguousarray(self._native.stream_next(n))
        out = []
        for _ in range(n):
            noise = seed_noise(self._seed, self._frame.shape[1], stream=self._k)[None]
            self._frame, self._state = self._rt._sess.run(
                None, {"frame": self._frame, "controls": self._c, "noise": noise,
                       "state": self._state})
            self._k += 1
            out.append(self._frame[0])
        return np.stack(out, axis=1)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self

    def __next__(self) -> np.ndarray:
        mel = self.frames(self._block)
        # The engine's arithmetic exactly (std::exp, then the mel inverse), so a stream here
        # and an engine voice with the same controls and seed give the same samples.
        mag = _core.log_mel_to_linear(np.ascontiguousarray(mel, np.float32), self._fb)
        return self._synth.push(np.ascontiguousarray(mag, np.float32))
