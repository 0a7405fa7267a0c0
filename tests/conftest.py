"""Shared fixtures for the DSP suite: the three deterministic test signals, their
magnitudes, a few random audio-range signals, and librosa references computed once per
session (librosa's Griffin-Lim is the slowest thing here; every quality test reuses it).

All signals are 1 s at 48 kHz with peak <= 0.5; STFT settings are the defaults of
DESIGN.md (n_fft 1024, hop 256).
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, Sequence, Tuple

import numpy as np
import pytest

from foleykit import dsp, testsignals

SR = 48000
N_FFT = 1024
HOP = 256
SIGNAL_NAMES: Tuple[str, ...] = tuple(testsignals.SIGNALS)  # ("impact", "noise", "voiced")


def magnitude(x: np.ndarray, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """|stft(x)| as float32 ``(bins, frames)``."""
    return np.abs(dsp.stft(x, n_fft, hop)).astype(np.float32)


def run_stream(mag: np.ndarray, method: str = "rtpghi", chunks: Iterable[int] | None = None,
               seed: int = 0, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """Push ``mag`` through a fresh StreamingSynth in chunks of the given frame counts
    (all at once if None), then flush; returns everything it emitted."""
    synth = dsp.StreamingSynth(n_fft=n_fft, hop=hop, method=method, seed=seed)
    n_frames = mag.shape[1]
    chunks = [n_frames] if chunks is None else list(chunks)
    assert sum(chunks) == n_frames, "chunk sizes must cover every frame"
    out, t = [], 0
    for c in chunks:
        out.append(synth.push(mag[:, t:t + c]))
        t += c
    out.append(synth.flush())
    return np.concatenate(out)


def random_chunks(n_frames: int, seed: int, max_chunk: int = 17) -> Sequence[int]:
    """Deterministic random split of n_frames into chunks of 1..max_chunk frames."""
    rng = np.random.default_rng(seed)
    chunks, left = [], n_frames
    while left:
        c = int(min(left, rng.integers(1, max_chunk + 1)))
        chunks.append(c)
        left -= c
    return chunks


@pytest.fixture(scope="session")
def signals() -> Dict[str, np.ndarray]:
    """impact / noise / voiced, 1 s at 48 kHz, float32."""
    return {name: make() for name, make in testsignals.SIGNALS.items()}


@pytest.fixture(scope="session")
def mags(signals) -> Dict[str, np.ndarray]:
    """Linear magnitudes ``(513, 188)`` of the test signals at the default settings."""
    return {name: magnitude(x) for name, x in signals.items()}


@pytest.fixture(scope="session")
def random_signals() -> Dict[str, np.ndarray]:
    """A few seeded noise-like random signals (peak <= 0.5) of awkward lengths."""
    rng = np.random.default_rng(1234)
    return {
        "uniform": (0.5 * rng.uniform(-1.0, 1.0, 48000)).astype(np.float32),
        "gauss": np.clip(0.12 * rng.standard_normal(20001), -0.5, 0.5).astype(np.float32),
        "sparse": (0.5 * rng.uniform(-1, 1, 9999) * (rng.uniform(size=9999) < 0.01))
        .astype(np.float32),
        "short": (0.5 * rng.uniform(-1.0, 1.0, 777)).astype(np.float32),
    }


@pytest.fixture(scope="session")
def tonal_signals() -> Dict[str, np.ndarray]:
    """Coherent full-scale (peak 0.5) signals: their STFT values reach ~100-256, where one
    float32 ulp is 8-15e-6, so an absolute 1e-5 is below float32 resolution there."""
    t = np.arange(30011) / SR
    noise = 0.04 * np.random.default_rng(99).standard_normal(t.size)
    return {
        "chirp": (0.45 * np.sin(2 * np.pi * (100.0 * t + 4000.0 * t * t)) + noise)
        .clip(-0.5, 0.5).astype(np.float32),
        "sine_1k": (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32),
        "dc": np.full(9000, 0.5, np.float32),
    }


# Griffin-Lim from random phases lands anywhere in a band about 4 dB wide depending on the
# draw (librosa, impact, 32 iterations: -28.7 to -33.0 dB over random_state 0..4). A single
# draw makes a coin toss of any comparison, so references are the median over GL_STATES draws.
GL_STATES = range(5)


class LibrosaGriffinLim:
    """librosa.griffinlim(mag, n_iter, hop 256, n_fft 1024, length=len(x), random_state=s)
    per (signal, n_iter, s), computed on first use and kept for the session."""

    def __init__(self, signals: Dict[str, np.ndarray], mags: Dict[str, np.ndarray]):
        self._signals, self._mags = signals, mags
        self._cache: Dict[Tuple[str, int, int], float] = {}

    def sc_state(self, name: str, n_iter: int, state: int) -> float:
        key = (name, n_iter, state)
        if key not in self._cache:
            import librosa

            y = librosa.griffinlim(self._mags[name], n_iter=n_iter, hop_length=HOP,
                                   n_fft=N_FFT, length=len(self._signals[name]),
                                   random_state=state)
            self._cache[key] = dsp.spectral_convergence(
                self._mags[name], np.asarray(y, dtype=np.float32), N_FFT, HOP)
        return self._cache[key]

    def sc(self, name: str, n_iter: int) -> float:
        """Median spectral convergence (dB) of librosa's output over GL_STATES, measured by
        foleykit."""
        return float(np.median([self.sc_state(name, n_iter, s) for s in GL_STATES]))


@pytest.fixture(scope="session")
def librosa_gl(signals, mags) -> LibrosaGriffinLim:
    return LibrosaGriffinLim(signals, mags)


@pytest.fixture(scope="session")
def stream() -> Callable[..., np.ndarray]:
    return run_stream
