"""Spectrogram DSP, implemented once in the native core (see DESIGN.md, "Python DSP API").

Arrays are numpy float32 / complex64, frequency-major: ``(n_fft // 2 + 1, n_frames)``.
Float64 and non-contiguous inputs are converted. Bad input raises :class:`DSPError` (a
``ValueError``) naming the problem. Every function is single-threaded and releases the GIL.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from . import _core
from ._core import DSPError

_COMPLEX64 = np.dtype(np.complex64)  # numpy's native-order dtypes are singletons

__all__ = [
    "DSPError",
    "stft",
    "istft",
    "mel_filterbank",
    "mel_to_linear",
    "log_mel",
    "griffin_lim",
    "pghi",
    "StreamingSynth",
    "spectral_convergence",
    "synthesize",
]


def _real(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if np.iscomplexobj(a):
        raise DSPError(f"{name} must be real, got complex dtype {a.dtype}")
    if a.dtype.kind not in "fiub":
        raise DSPError(f"{name} must be numeric, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.float32)


def _spec(x, name: str) -> np.ndarray:
    """A real spectrogram as float32, keeping its memory order (the core reads strides)."""
    a = np.asarray(x)
    if np.iscomplexobj(a):
        raise DSPError(f"{name} must be real, got complex dtype {a.dtype}")
    if a.dtype.kind not in "fiub":
        raise DSPError(f"{name} must be numeric, got dtype {a.dtype}")
    return a.astype(np.float32, copy=False)


def _signal(x, name: str = "signal") -> np.ndarray:
    shape = np.shape(x)  # before conversion: ascontiguousarray lifts 0-D to 1-D
    if len(shape) != 1:
        raise DSPError(f"{name} must be 1-D (samples,), got shape {shape}")
    return _real(x, name)


def _seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise DSPError(f"seed must be an integer, got {type(seed).__name__}")
    if not 0 <= int(seed) < 2**64:
        raise DSPError(f"seed must be in [0, 2**64), got {seed}")
    return int(seed)


def stft(x, n_fft: int = 1024, hop: int = 256) -> np.ndarray:
    """Centred STFT with reflect padding and a periodic Hann window.

    x: ``(samples,)`` -> complex64 ``(n_fft // 2 + 1, 1 + samples // hop)``; equals
    ``torch.stft(center=True, return_complex=True)``.
    """
    return _core.stft(_signal(x), n_fft, hop)


def istft(S, n_fft: int = 1024, hop: int = 256, length: Optional[int] = None) -> np.ndarray:
    """Inverse of :func:`stft` (window-sum normalised overlap-add).

    S: complex ``(n_fft // 2 + 1, frames)`` -> float32 ``(length,)``, by default
    ``hop * (frames - 1)`` samples.
    """
    if type(S) is not np.ndarray or S.dtype is not _COMPLEX64:  # else as it is: ~0.5 us less
        a = np.asarray(S)
        if not np.iscomplexobj(a):
            raise DSPError(f"spectrogram must be complex, got dtype {a.dtype}")
        S = a.astype(np.complex64, copy=False)
    return _core.istft(S, n_fft, hop, length)


def mel_filterbank(sr: float, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: Optional[float] = None) -> np.ndarray:
    """Slaney mel filterbank ``(n_mels, n_fft // 2 + 1)``, equal to
    ``librosa.filters.mel(htk=False, norm="slaney")``."""
    return _core.mel_filterbank(float(sr), int(n_fft), int(n_mels), float(fmin),
                                None if fmax is None else float(fmax))


def mel_to_linear(mel_mag, fb) -> np.ndarray:
    """Mel magnitudes ``(n_mels, frames)`` -> linear magnitudes ``(bins, frames)`` through a
    regularised pseudo-inverse of ``fb`` ``(n_mels, bins)``, clamped at zero."""
    return _core.mel_to_linear(_real(mel_mag, "mel spectrogram"), _real(fb, "filterbank"))


def log_mel(x, sr: float = 48000.0, n_fft: int = 1024, hop: int = 256, n_mels: int = 80,
            fmin: float = 0.0, fmax: Optional[float] = None, log_floor: float = 1e-5) -> np.ndarray:
    """The feature the models learn: ``log(max(fb @ |stft(x)|, log_floor))``,
    ``(n_mels, frames)``."""
    return _core.log_mel(_signal(x), float(sr), n_fft, hop, n_mels, float(fmin),
                         None if fmax is None else float(fmax), float(log_floor))


def griffin_lim(mag, n_iter: int = 32, momentum: float = 0.99, n_fft: int = 1024, hop: int = 256,
                length: Optional[int] = None, init: str = "random", seed: int = 0) -> np.ndarray:
    """Fast Griffin-Lim (librosa's momentum form) from ``init`` = "random" or "pghi".

    mag: ``(bins, frames)`` linear magnitude -> float32 waveform.
    """
    return _core.griffin_lim(_spec(mag, "magnitude spectrogram"), int(n_iter), float(momentum),
                             n_fft, hop, length, init, _seed(seed))


def pghi(mag, n_fft: int = 1024, hop: int = 256, length: Optional[int] = None) -> np.ndarray:
    """Phase-gradient heap integration: a non-iterative phase estimate from the magnitude
    ``(bins, frames)``, then :func:`istft`. Cost is linear in the number of frames."""
    return _core.pghi(_spec(mag, "magnitude spectrogram"), n_fft, hop, length)


def spectral_convergence(mag, y, n_fft: int = 1024, hop: int = 256) -> float:
    """``20 log10(||mag - |stft(y)||| / ||mag||)`` in dB; lower is better. ``y`` must give as
    many frames as ``mag`` has."""
    return float(_core.spectral_convergence(_spec(mag, "magnitude spectrogram"),
                                            _signal(y), n_fft, hop))


def synthesize(spec, kind: str = "log_mel", method: str = "pghi", sr: float = 48000.0,
               n_fft: int = 1024, hop: int = 256, n_mels: int = 80, fmin: float = 0.0,
               fmax: Optional[float] = None, n_iter: int = 8, seed: int = 0,
               length: Optional[int] = None) -> np.ndarray:
    """The runtime's one-call hot path: a ``kind`` = "linear" | "mel" | "log_mel" spectrogram
    ``(rows, frames)`` to a waveform with ``method`` = "pghi" | "griffin_lim" |
    "pghi_griffin_lim" | "random" (the same code the C ABI's ``fk_synth_render`` runs)."""
    return _core.synthesize(_spec(spec, "spectrogram"), kind, method, float(sr), n_fft, hop,
                            n_mels, float(fmin), None if fmax is None else float(fmax),
                            int(n_iter), _seed(seed), length)


class StreamingSynth:
    """Frame-by-frame synthesis with bounded latency (RTPGHI, one frame of look-ahead), or
    seeded random phase for noise beds (``method="random"``).

    ``push(mag_frames)`` takes ``(bins, frames)`` (or one frame ``(bins,)``) and returns the
    samples those frames complete; ``flush()`` returns the tail and resets. The output does
    not depend on how frames are split across calls.
    """

    def __init__(self, n_fft: int = 1024, hop: int = 256, method: str = "rtpghi", seed: int = 0):
        self._s = _core.StreamingSynth(n_fft, hop, method, _seed(seed))

    @property
    def n_fft(self) -> int:
        return self._s.n_fft

    @property
    def hop(self) -> int:
        return self._s.hop

    @property
    def method(self) -> str:
        return self._s.method

    def push(self, mag_frames) -> np.ndarray:
        if type(mag_frames) is np.ndarray and mag_frames.dtype == np.float32:
            return self._s.push(mag_frames)  # the per-frame fast path: nothing to convert
        return self._s.push(_spec(mag_frames, "magnitude frames"))

    def flush(self) -> np.ndarray:
        return self._s.flush()

    def reset(self) -> None:
        self._s.reset()
