"""Small deterministic test signals for tests, benchmarks and the DSP demo.

Each returns float32 mono at ``sr`` with peak amplitude about 0.3-0.5. They stand in for the
three families the phase methods must handle: impacts (sharp onsets, decaying modes plus a
noise burst), noise beds (rain, wind) and voiced/tonal sounds (creaks, engines, voices).
"""
from __future__ import annotations

import numpy as np

__all__ = ["impact", "noise_bed", "voiced", "SIGNALS"]


def impact(sr: int = 48000, duration: float = 1.0, seed: int = 0,
           onsets=(0.05, 0.35, 0.62), attack_ms: float = 1.0) -> np.ndarray:
    """Struck-object hits: damped modes plus a short noise burst, ``(samples,)``."""
    rng = np.random.default_rng(seed)
    n = int(sr * duration)
    y = np.zeros(n)
    for i, t0 in enumerate(onsets):
        n0 = int(t0 * sr)
        if n0 >= n:
            continue
        tt = np.arange(n - n0) / sr
        attack = np.minimum(1.0, tt / max(attack_ms / 1000.0, 1e-6))
        modes = [(380.0 * (i + 1), 25.0), (918.0 * (i + 1), 35.0), (2710.0, 50.0), (4890.0, 80.0)]
        sig = sum(np.exp(-d * tt) * np.sin(2 * np.pi * f * tt + rng.uniform(0, 2 * np.pi))
                  for f, d in modes)
        sig = sig + 0.5 * rng.standard_normal(len(tt)) * np.exp(-tt * 300.0)
        y[n0:] += 0.25 * attack * sig
    return (0.5 * y / max(np.abs(y).max(), 1e-9)).astype(np.float32)


def noise_bed(sr: int = 48000, duration: float = 1.0, seed: int = 0) -> np.ndarray:
    """Pink-ish noise with a slow swell, like rain or wind, ``(samples,)``."""
    rng = np.random.default_rng(seed)
    n = int(sr * duration)
    X = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    X /= 1.0 + f / 2000.0
    y = np.fft.irfft(X, n) * (0.7 + 0.3 * np.sin(2 * np.pi * 0.7 * np.arange(n) / sr))
    return (0.3 * y / max(np.abs(y).max(), 1e-9)).astype(np.float32)


def voiced(sr: int = 48000, duration: float = 1.0, seed: int = 0) -> np.ndarray:
    """A harmonic tone with vibrato and tremolo (creak, engine, voice), ``(samples,)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * duration)) / sr
    f0 = 140.0 + 20.0 * np.sin(2 * np.pi * 3.0 * t + rng.uniform(0, 2 * np.pi))
    ph = 2 * np.pi * np.cumsum(f0) / sr
    y = sum(np.sin(k * ph) / k * np.exp(-k / 12.0) for k in range(1, 40))
    y = y * (0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t))
    return (0.3 * y / max(np.abs(y).max(), 1e-9)).astype(np.float32)


SIGNALS = {"impact": impact, "noise": noise_bed, "voiced": voiced}
