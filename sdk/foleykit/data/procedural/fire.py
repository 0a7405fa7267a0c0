"""Fire, after Farnell ("Designing Sound"): three layers.

- Lapping: the low roar of burning gas, low-passed noise whose level flickers a few times
  a second (the flames' lapping) over a slower swell.
- Hissing: high-passed noise with a fast, spiky flicker (escaping gas and steam).
- Crackling: bursts of sharp clicks as pockets of sap and air pop; they come in clusters,
  at a rate that clumps and thins, with now and then a larger, lower pop.

Intensity raises the roar and, more steeply, the crackle rate.
"""
from __future__ import annotations

import numpy as np

from .ambience import BLOCK, HOP, Ambience
from .noise import ShapedNoise, SlowNoise, band
from .schema import Category, Control
from .synth import OverlapAdd, damped_sines, log_uniform

__all__ = ["Fire", "CATEGORIES", "crackle_rate"]


def crackle_rate(intensity: float) -> float:
    """Mean crackle clusters per second at ``intensity``."""
    return 2.0 + 40.0 * intensity ** 1.5


class Fire(Ambience):
    n_rngs = 6
    gain = 0.4

    def setup(self, rngs):
        r_noise, r_lap, r_swell, r_hiss, r_clump, self.r_crackle = rngs
        i = self.controls["intensity"]
        self.noise = ShapedNoise(r_noise, self.sr, 2048)
        hop = self.noise.hop
        self.lap = SlowNoise(r_lap, 0.08, self.sr, hop)
        self.swell = SlowNoise(r_swell, 2.0, self.sr, hop)
        self.hiss = SlowNoise(r_hiss, 0.03, self.sr, hop)
        self.clump = SlowNoise(r_clump, 0.7, self.sr, HOP)
        f = self.noise.freqs
        self.roar_shape = band(f, 25.0, 250.0, 1.5) * (0.1 + 0.4 * i)
        self.hiss_shape = band(f, 2500.0, 12000.0, 1.0) * 0.06 * (0.3 + 0.7 * i)
        self.rate = crackle_rate(i)
        self.events = OverlapAdd()

    def _crackles(self) -> None:
        r, sr, frames = self.r_crackle, self.sr, BLOCK // HOP
        clump = np.exp(0.6 * self.clump.frames(frames) - 0.18)
        counts = r.poisson(self.rate * clump * HOP / sr)
        clusters = int(counts.sum())
        starts = np.repeat(np.arange(frames) * HOP, counts) + r.integers(0, HOP, clusters)
        size = 1 + r.poisson(1.5, clusters)  # clicks per cluster, a few ms apart
        starts = np.repeat(starts, size) + (r.exponential(0.008, size.sum()) * sr).astype(np.int64)
        k = starts.size
        pop = r.uniform(size=k) < 0.08
        freqs = np.where(pop, log_uniform(r, 300.0, 1200.0, k), log_uniform(r, 1500.0, 9000.0, k))
        t60 = np.where(pop, log_uniform(r, 0.01, 0.04, k), log_uniform(r, 0.001, 0.005, k))
        amps = np.where(pop, log_uniform(r, 0.3, 1.0, k), log_uniform(r, 0.016, 1.0, k))
        self.events.add_grains(starts, damped_sines(int(0.04 * sr), sr, freqs, t60, amps,
                                                    r.uniform(0, 2 * np.pi, k)))

    def block(self) -> np.ndarray:
        frames = BLOCK // self.noise.hop
        lap = np.exp(0.5 * self.lap.frames(frames) + 0.15 * self.swell.frames(frames) - 0.14)
        hiss = self.hiss.frames(frames) ** 2
        mask = lap[:, None] * self.roar_shape + hiss[:, None] * self.hiss_shape
        self._crackles()
        return self.noise.render(mask) + self.events.take(BLOCK)


CATEGORIES = (
    Category("fire", "a wood fire: roar, hiss and crackle",
             (Control.continuous("intensity", 0.0, 1.0, 0.5,
                                 "size of the fire: louder roar, many more crackles"),),
             Fire, ambience=True, default_duration=10.0),
)
