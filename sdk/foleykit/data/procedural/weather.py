"""Weather ambiences: ``rain`` and ``wind``.

Rain is a particle model (Farnell; van den Doel 2005): drops land as a Poisson
process whose rate grows steeply with intensity; most give a short bright tick on hard
surfaces, some a bubble's rising "plink" in puddles, over a wash of noise for the countless
drops too far or too small to hear one by one. The rate wanders slowly (showers come and
go) but stays close to its mean, so the level is stationary.

Wind is aerodynamic noise driven by a fluctuating wind speed: a slow gust process and a
faster flutter multiply the mean speed (their mix set by gustiness); level grows with speed
to the power 1.2 and the band rises with it; above a threshold, obstacles start to whistle
at Strouhal frequencies proportional to the speed.
"""
from __future__ import annotations

import numpy as np

from .ambience import BLOCK, HOP, Ambience
from .noise import ShapedNoise, SlowNoise, band, bell
from .schema import Category, Control
from .synth import OverlapAdd, bubble_grains, damped_sines, log_uniform

__all__ = ["Rain", "Wind", "CATEGORIES", "drop_rate"]


def drop_rate(intensity: float) -> float:
    """Mean drops per second heard at ``intensity`` (0: a few, 1: a downpour)."""
    return 20.0 * 150.0 ** intensity


class Rain(Ambience):
    n_rngs = 4
    gain = 0.22

    def setup(self, rngs):
        self.r_drops, r_bed, r_mod, r_flurry = rngs
        i = self.controls["intensity"]
        self.rate = drop_rate(i)
        self.showers = SlowNoise(r_mod, 8.0, self.sr, HOP)
        self.flurries = SlowNoise(r_flurry, 0.6, self.sr, HOP)
        self.bed = ShapedNoise(r_bed, self.sr, 1024)
        f = self.bed.freqs
        self.bed_shape = (band(f, 300.0, 14000.0, 1.0) * (np.maximum(f, 1.0) / 3000.0) ** 0.3
                          * 5e-4 * self.rate ** 0.78)  # grows faster than the drops' sum
        self.events = OverlapAdd()

    def block(self) -> np.ndarray:
        frames, sr, r = BLOCK // HOP, self.sr, self.r_drops
        density = np.exp(0.2 * self.showers.frames(frames) + 0.12 * self.flurries.frames(frames)
                         - 0.5 * (0.2 ** 2 + 0.12 ** 2))
        counts = r.poisson(self.rate * density * HOP / sr)
        total = int(counts.sum())
        starts = np.repeat(np.arange(frames) * HOP, counts) + r.integers(0, HOP, total)
        amps = log_uniform(r, 0.03, 1.0, total)
        plink = r.uniform(size=total) < 0.15
        k = int(plink.sum())
        # Ticks: tiny impacts, a few milliseconds of a bright resonance.
        self.events.add_grains(starts[~plink], damped_sines(
            int(0.012 * sr), sr, log_uniform(r, 1500.0, 9000.0, total - k),
            log_uniform(r, 0.002, 0.01, total - k), amps[~plink],
            r.uniform(0, 2 * np.pi, total - k)))
        # Plinks: a small bubble ringing up in pitch.
        self.events.add_grains(starts[plink], bubble_grains(
            int(0.025 * sr), sr, log_uniform(r, 1800.0, 4500.0, k), log_uniform(r, 0.01, 0.04, k),
            0.5 * amps[plink], r.uniform(5.0, 20.0, k)))
        bed = self.bed.render(np.sqrt(density)[:, None] * self.bed_shape[None, :])
        return self.events.take(BLOCK) + bed


class Wind(Ambience):
    n_rngs = 5
    gain = 0.3

    def setup(self, rngs):
        r_noise, r_gust, r_flutter, r_whistle, r_on = rngs
        s, g = self.controls["strength"], self.controls["gustiness"]
        self.speed = 0.15 + 0.85 * s
        self.gust_depth, self.flutter_depth = 0.4 * g, 0.2 * g
        self.noise = ShapedNoise(r_noise, self.sr, 2048)
        hop = self.noise.hop
        self.gusts = SlowNoise(r_gust, 2.0, self.sr, hop)
        self.flutter = SlowNoise(r_flutter, 0.3, self.sr, hop)
        self.whistle_f = log_uniform(r_whistle, 500.0, 2000.0, 3)
        self.whistle_on = [SlowNoise(r_on, 4.0, self.sr, hop) for _ in range(3)]
        self.f = self.noise.freqs

    def block(self) -> np.ndarray:
        frames = BLOCK // self.noise.hop
        a, b = self.gust_depth, self.flutter_depth
        # Log-normal speed with its mean kept at self.speed whatever the gustiness.
        u = self.speed * np.exp(a * self.gusts.frames(frames) + b * self.flutter.frames(frames)
                                - 0.5 * (a * a + b * b))
        f = self.f[None, :]
        centre = (100.0 + 900.0 * u)[:, None]
        mask = bell(f, centre, 1.3) * band(f, 25.0, np.inf, 2.0) * (u ** 1.2)[:, None]
        for fw, on in zip(self.whistle_f, self.whistle_on):
            level = np.maximum(u - 0.5, 0.0) / (1.0 + np.exp(-2.0 * on.frames(frames)))
            fc = (fw * (0.6 + 0.5 * u))[:, None]
            width = np.maximum(10.0, 0.01 * fc)
            mask = mask + 3.0 * level[:, None] * np.exp(-0.5 * ((f - fc) / width) ** 2)
        return self.noise.render(mask)


CATEGORIES = (
    Category("rain", "rain on hard ground and puddles",
             (Control.continuous("intensity", 0.0, 1.0, 0.5,
                                 "how hard it rains: more drops, louder wash"),),
             Rain, ambience=True, default_duration=10.0),
    Category("wind", "wind outdoors, with gusts and the odd whistle",
             (Control.continuous("strength", 0.0, 1.0, 0.5,
                                 "mean wind speed: louder, higher, whistles when strong"),
              Control.continuous("gustiness", 0.0, 1.0, 0.5,
                                 "how much the speed fluctuates: steady to blustery")),
             Wind, ambience=True, default_duration=10.0),
)
