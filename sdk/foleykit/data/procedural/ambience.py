"""The streaming frame every ambience generator fills in.

An ambience is rendered in fixed internal blocks of :data:`BLOCK` samples, each from the
same continuing random generators, filter states and pending long events, so:

- it can run for any length in bounded memory, and nothing in it loops (every grain,
  modulation value and noise frame is a fresh draw from the seed's stream);
- ``read(n)`` returns the same samples however the caller splits the reads, and a shorter
  render is a prefix of a longer one with the same seed and controls.

The level is fixed by the controls (no normalisation over the whole clip, which a stream
cannot know); a soft knee above 0.9 keeps the rare extreme peak below full scale.
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from .synth import soft_limit, spawn_rngs

__all__ = ["Ambience", "HOP", "BLOCK"]

HOP = 256          # control rate: modulation values are drawn once per HOP samples
BLOCK = 64 * HOP   # 16384 samples, about 0.34 s at 48 kHz


class Ambience:
    """Base class: subclasses set ``n_rngs`` and ``gain`` and implement :meth:`setup` and
    :meth:`block`. Use :meth:`read` to pull samples."""

    n_rngs: int = 1
    gain: float = 1.0

    def __init__(self, seq: np.random.SeedSequence, sr: float, controls: Dict):
        self.sr = float(sr)
        self.controls = dict(controls)
        self._pending = np.zeros(0, np.float32)
        self.setup(spawn_rngs(seq, self.n_rngs))

    def setup(self, rngs: List[np.random.Generator]) -> None:
        """Builds the layers from the controls in ``self.controls``."""
        raise NotImplementedError

    def block(self) -> np.ndarray:
        """The next :data:`BLOCK` samples, float64, before the output gain."""
        raise NotImplementedError

    def read(self, n: int) -> np.ndarray:
        """The next ``n`` samples, float32 ``(n,)``, |x| < 1."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"read() needs a sample count >= 0, got {n!r}")
        parts, have = [self._pending], len(self._pending)
        while have < n:
            x = soft_limit(self.block() * self.gain).astype(np.float32)
            parts.append(x)
            have += len(x)
        out = np.concatenate(parts)
        self._pending = out[n:].copy()
        return out[:n]
