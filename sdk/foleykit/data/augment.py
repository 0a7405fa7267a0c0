"""Seeded variations of a clip, so that a category with five recordings still trains.

Each variant draws, from a generator seeded by (seed, clip key, variant index):

1. varispeed: resampling by 2**(s/12), s in +-``semitones``; pitch and length change together,
   like a tape played faster or slower (soxr, no artefacts);
2. time stretch by a factor in 1 +- ``stretch``, pitch kept: STFT magnitudes interpolated along
   time and rebuilt with the native PGHI (:func:`foleykit.dsp.pghi`);
3. gain in +-``gain_db``;
4. time shift: 0..``shift_ms`` of silence before the onset;
5. white noise at an SNR in ``snr_db`` relative to the clip's RMS.

A range of 0 (``snr_db=None`` for the noise) turns a step off. The key is the clip's content
hash, so adding files to a folder does not change the variants of the others.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

__all__ = ["Augmenter"]


@dataclass(frozen=True)
class Augmenter:
    seed: int = 0
    semitones: float = 2.0
    stretch: float = 0.1
    gain_db: float = 6.0
    shift_ms: float = 20.0
    snr_db: Optional[Tuple[float, float]] = (30.0, 50.0)
    quality: str = "HQ"

    def __post_init__(self) -> None:
        if not 0 <= self.stretch < 1:
            raise ValueError(f"stretch must be in [0, 1), got {self.stretch}")
        for name in ("semitones", "gain_db", "shift_ms"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.snr_db is not None and not self.snr_db[0] <= self.snr_db[1]:
            raise ValueError(f"snr_db must be (low, high) or None, got {self.snr_db}")

    def rng(self, key: str, variant: int) -> np.random.Generator:
        digest = hashlib.blake2b(f"{self.seed}/{key}/{variant}".encode(), digest_size=8).digest()
        return np.random.default_rng(int.from_bytes(digest, "little"))

    def __call__(self, x: np.ndarray, sr: int, key: str,
                 variant: int) -> Tuple[np.ndarray, Dict[str, float]]:
        """``(samples,)`` float32 -> (variant ``(samples',)`` float32, the parameters drawn)."""
        rng = self.rng(key, variant)
        # Draw every parameter first, so turning one step off does not reshuffle the others.
        semis = float(rng.uniform(-self.semitones, self.semitones))
        factor = float(rng.uniform(1 - self.stretch, 1 + self.stretch))
        gain = float(rng.uniform(-self.gain_db, self.gain_db))
        shift = float(rng.uniform(0, self.shift_ms))
        snr = float(rng.uniform(*(self.snr_db or (0.0, 0.0))))
        noise_seed = int(rng.integers(2**63))

        y = np.asarray(x, dtype=np.float32)
        if semis:
            import soxr

            # Fewer samples played at the same rate: higher and shorter.
            ratio = 2.0 ** (semis / 12.0)
            y = soxr.resample(y, sr * ratio, sr, quality=self.quality).astype(np.float32)
        if self.stretch and abs(factor - 1) > 1e-3 and y.size > 2048:
            y = _stretch(y, factor)
        y = y * np.float32(10 ** (gain / 20))
        y = np.concatenate([np.zeros(int(round(shift * 1e-3 * sr)), np.float32), y])
        if self.snr_db is not None:
            rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
            noise = np.random.default_rng(noise_seed).standard_normal(y.size)
            y = y + (rms * 10 ** (-snr / 20) * noise).astype(np.float32)
        params = {"semitones": semis, "stretch": factor if self.stretch else 1.0,
                  "gain_db": gain, "shift_ms": shift,
                  "snr_db": snr if self.snr_db is not None else float("inf")}
        return np.ascontiguousarray(y, dtype=np.float32), params


def _stretch(y: np.ndarray, factor: float, n_fft: int = 1024, hop: int = 256) -> np.ndarray:
    """Time stretch by ``factor`` (> 1 is longer) with the pitch kept."""
    from .. import dsp

    mag = np.abs(dsp.stft(y, n_fft, hop))
    frames = mag.shape[1]
    n_out = max(int(round((frames - 1) * factor)) + 1, 2)
    pos = np.linspace(0, frames - 1, n_out)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, frames - 1)
    w = (pos - i0).astype(np.float32)
    out = mag[:, i0] * (1 - w) + mag[:, i1] * w
    length = int(round(y.size * factor))
    return dsp.pghi(np.ascontiguousarray(out, dtype=np.float32), n_fft, hop, length=length)
