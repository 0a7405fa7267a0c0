"""Python reference runtime: loads an exported model with ONNX Runtime and renders audio
through the native synthesis (:func:`foleykit.dsp.synthesize`, :class:`~foleykit.dsp.StreamingSynth`).

No torch here: this is what a lean ``pip install foleykit`` (numpy, onnxruntime) can run, and
what the native runtime is checked against.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional, Union

import numpy as np

from .. import dsp
from ..export.metadata import load_metadata
from ..models.common import seed_noise
from ..models.controls import ControlSchema

__all__ = ["Runtime", "AmbienceStream"]


class Runtime:
    """One exported model (immutable, shareable). ``render`` for one-shots, ``stream`` for
    ambiences (step models)."""

    def __init__(self, path: Union[str, Path]) -> None:
        import onnxruntime as ort

        self.meta: Dict[str, Any] = load_metadata(path)  # refuses damaged files
        self.schema = ControlSchema.from_dict(self.meta["control_schema"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # deterministic and polite next to an audio thread
        self._sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        m = self.meta
        self._synth_kw = dict(sr=float(m["sample_rate"]), n_fft=m["n_fft"], hop=m["hop"],
                              n_mels=m["n_mels"], fmin=m["fmin"], fmax=m["fmax"])

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
        self._rt, self._seed, self._block = rt, seed, int(block_frames)
        self._c = rt._controls(controls)
        lo = float(np.log(m["log_floor"]))
        self._frame = np.full((1, m["n_mels"]), lo, np.float32)
        self._state = np.full((1, m["window_frames"], m["n_mels"]), lo, np.float32)
        self._k = 0
        self._fb = dsp.mel_filterbank(float(m["sample_rate"]), m["n_fft"], m["n_mels"],
                                      m["fmin"], m["fmax"])
        self._synth = dsp.StreamingSynth(m["n_fft"], m["hop"], method, seed)

    def set_controls(self, controls: Optional[Mapping[str, Any]]) -> None:
        """New controls from the next frame on (validated now: ValueError names the control)."""
        self._c = self._rt._controls(controls)

    def frames(self, n: int) -> np.ndarray:
        """The next ``n`` log-mel frames ``(n_mels, n)``."""
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
        mag = dsp.mel_to_linear(np.exp(mel).astype(np.float32), self._fb)
        return self._synth.push(np.ascontiguousarray(mag, np.float32))
