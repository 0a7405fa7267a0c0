"""Pieces every model family shares: feature statistics kept as buffers (so the exported graph
clamps to the range it was trained on), portable seeded noise, and the "still sounding" rule.
"""
from __future__ import annotations

import math
from typing import Dict, Mapping

import numpy as np
import torch
from torch import nn

__all__ = ["FeatureStats", "seed_noise", "alive_mask", "ALIVE_DB_BELOW_PEAK", "count_parameters"]

# A frame is still sounding while some later frame is within this many dB of the clip's peak
# frame; 60 dB is the usual reverberation-time threshold.
ALIVE_DB_BELOW_PEAK = 60.0

_MASK64 = (1 << 64) - 1


def _splitmix64(state: int):
    """One splitmix64 step -> (new_state, output). Chosen because it is four lines of C, so the
    native runtime draws the same z for a seed as Python does."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def seed_noise(seed: int, n: int, stream: int = 0) -> np.ndarray:
    """``(n,)`` float32 standard normals from ``(seed, stream)``: splitmix64 uniforms (53 bits)
    through Box-Muller. ``stream`` picks an independent sequence (the step of a streaming
    model), so noise for step k needs no draws for steps < k."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    state = (int(seed) ^ ((int(stream) * 0xD1B54A32D192ED03) & _MASK64)) & _MASK64
    out = np.empty(n, np.float64)
    for i in range(0, n, 2):
        state, a = _splitmix64(state)
        state, b = _splitmix64(state)
        u1 = ((a >> 11) + 1) * (1.0 / 9007199254740993.0)  # (0, 1]: log(u1) is finite
        u2 = (b >> 11) * (1.0 / 9007199254740992.0)
        r = math.sqrt(-2.0 * math.log(u1))
        out[i] = r * math.cos(2 * math.pi * u2)
        if i + 1 < n:
            out[i + 1] = r * math.sin(2 * math.pi * u2)
    return out.astype(np.float32)


def alive_mask(mel: np.ndarray, db_below_peak: float = ALIVE_DB_BELOW_PEAK) -> np.ndarray:
    """Log-mel ``(n_mels, frames)`` -> ``(frames,)`` float32 1/0: 1 up to the last frame whose
    loudest band is within ``db_below_peak`` of the clip's loudest band."""
    peak_per_frame = mel.max(axis=0)
    nats = db_below_peak / 20.0 * math.log(10.0)  # log-mel is natural log of magnitude
    loud = np.nonzero(peak_per_frame >= peak_per_frame.max() - nats)[0]
    out = np.zeros(mel.shape[1], np.float32)
    out[: int(loud[-1]) + 1] = 1.0
    return out


class FeatureStats(nn.Module):
    """Log-mel statistics as buffers: ``lo``/``hi`` bound every output (lo = log(log_floor)),
    ``center``/``spread`` normalise inputs, ``level_lo``/``level_hi`` bound a frame's mean
    level (the streaming stabiliser). Buffers travel in checkpoints and exported graphs."""

    def __init__(self, log_floor: float = 1e-5) -> None:
        super().__init__()
        lo = math.log(log_floor)
        for name, v in (("lo", lo), ("hi", 6.0), ("center", -6.0), ("spread", 3.0),
                        ("level_lo", lo), ("level_hi", 6.0)):
            self.register_buffer(name, torch.tensor(float(v)))

    def set(self, stats: Mapping[str, float]) -> None:
        for k, v in stats.items():
            getattr(self, k).fill_(float(v))

    def as_dict(self) -> Dict[str, float]:
        return {k: float(v) for k, v in self.named_buffers()}

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.center) / self.spread

    def bounded(self, raw: torch.Tensor) -> torch.Tensor:
        """Unbounded network output -> log-mel in [lo, hi]. The sigmoid spans a margin past
        both ends so the bounds are reachable with finite logits (padding sits exactly at lo)."""
        span = self.hi - self.lo
        y = self.lo - 0.05 * span + 1.1 * span * torch.sigmoid(raw)
        return torch.minimum(torch.maximum(y, self.lo), self.hi)


def compute_stats(mels, log_floor: float) -> Dict[str, float]:
    """Statistics of a list of log-mel ``(n_mels, frames)`` arrays for :class:`FeatureStats`."""
    allv = np.concatenate([m.reshape(-1) for m in mels])
    levels = np.concatenate([m.mean(axis=0) for m in mels])
    lo = math.log(log_floor)
    return {"lo": lo, "hi": float(allv.max()) + 1.0, "center": float(allv.mean()),
            "spread": float(max(allv.std(), 1e-3)),
            "level_lo": float(np.percentile(levels, 1)) - 1.0,
            "level_hi": float(np.percentile(levels, 99)) + 1.0}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
