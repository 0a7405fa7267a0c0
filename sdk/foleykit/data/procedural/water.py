"""A babbling stream (van den Doel, "Physically based models for liquid sounds", 2005):
most of what we hear of running water is air bubbles ringing as they form, each a damped
sine whose pitch rises as it nears the surface (Minnaert frequency ~ 3 / radius). A stream
is a Poisson population of such bubbles, clumping in gurgles, over a broadband rush.

Flow raises the bubble rate and the rush and shifts the bubbles to larger, lower ones.
"""
from __future__ import annotations

import numpy as np

from .ambience import BLOCK, HOP, Ambience
from .noise import ShapedNoise, SlowNoise, band, bell
from .schema import Category, Control
from .synth import OverlapAdd, bubble_grains, log_uniform

__all__ = ["WaterStream", "CATEGORIES", "bubble_rate"]


def bubble_rate(flow: float) -> float:
    """Mean bubbles per second at ``flow``."""
    return 40.0 + 700.0 * flow


class WaterStream(Ambience):
    n_rngs = 5
    gain = 0.09

    def setup(self, rngs):
        r_noise, r_swell, r_gurgle, r_rush, self.r_bubbles = rngs
        flow = self.controls["flow"]
        self.rate = bubble_rate(flow)
        self.pitch = 1.2 - 0.4 * flow
        self.swell = SlowNoise(r_swell, 3.0, self.sr, HOP)
        self.gurgle = SlowNoise(r_gurgle, 0.12, self.sr, HOP)
        self.noise = ShapedNoise(r_noise, self.sr, 1024)
        self.rush = SlowNoise(r_rush, 1.5, self.sr, self.noise.hop)
        f = self.noise.freqs
        self.rush_shape = (bell(f, 700.0, 1.5) + 0.3 * band(f, 2000.0, 10000.0, 1.0)) * (
            0.05 + 0.25 * flow)
        self.events = OverlapAdd()

    def block(self) -> np.ndarray:
        r, sr, frames = self.r_bubbles, self.sr, BLOCK // HOP
        density = np.exp(0.25 * self.swell.frames(frames) + 0.6 * self.gurgle.frames(frames)
                         - 0.5 * (0.25 ** 2 + 0.6 ** 2))
        counts = r.poisson(self.rate * density * HOP / sr)
        k = int(counts.sum())
        starts = np.repeat(np.arange(frames) * HOP, counts) + r.integers(0, HOP, k)
        f0 = log_uniform(r, 250.0, 2200.0, k) * self.pitch
        q = log_uniform(r, 8.0, 30.0, k)
        t60 = np.minimum(6.9 * q / (np.pi * f0), 0.06)
        amps = (f0 / 1000.0) ** -0.7 * log_uniform(r, 0.1, 1.0, k)
        self.events.add_grains(starts, bubble_grains(int(0.05 * sr), sr, f0, t60, amps,
                                                     r.uniform(2.0, 15.0, k)))
        rush = np.exp(0.3 * self.rush.frames(BLOCK // self.noise.hop))
        return self.events.take(BLOCK) + self.noise.render(rush[:, None] * self.rush_shape)


CATEGORIES = (
    Category("water_stream", "a brook or stream running over stones",
             (Control.continuous("flow", 0.0, 1.0, 0.5,
                                 "how much water: more, larger bubbles, louder rush"),),
             WaterStream, ambience=True, default_duration=10.0),
)
